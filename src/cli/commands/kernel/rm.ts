/** `banger kernel rm NAME`: remove a kernel that no image uses. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerRm(kernel: Command, ctx: CliContext): Command {
  return kernel
    .command('rm')
    .argument('<name>')
    .description('remove a kernel that no image uses')
    .addHelpText('after', examples(['banger kernel rm old-kernel']))
    .action(act(ctx, (name: string) => removeKernel(ctx, name)));
}

export async function removeKernel(ctx: CliContext, name: string): Promise<Outcome> {
  await ctx.daemon.call('kernel.rm', { name });
  ctx.output.out(`removed ${name}\n`);
  return 'ok';
}
