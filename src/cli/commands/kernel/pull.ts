/** `banger kernel pull NAME`: obtain a catalog kernel and build its initramfs. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerPull(kernel: Command, ctx: CliContext): Command {
  return kernel
    .command('pull')
    .argument('<name>')
    .description('obtain a catalog kernel and build its initramfs')
    .addHelpText('after', examples(['banger kernel pull debian-bookworm-cloud']))
    .action(act(ctx, (name: string) => pullKernel(ctx, name)));
}

export async function pullKernel(ctx: CliContext, name: string): Promise<Outcome> {
  const { kernel: k } = await ctx.daemon.call('kernel.pull', { name }, { onProgress: progressPrinter(ctx.output) });
  ctx.output.out(`${k.name} ${k.version ?? ''} ready\n`);
  return 'ok';
}
