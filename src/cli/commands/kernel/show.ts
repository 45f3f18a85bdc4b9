/** `banger kernel show NAME`: one installed kernel, as JSON. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerShow(kernel: Command, ctx: CliContext): Command {
  return kernel
    .command('show')
    .argument('<name>')
    .description('show one installed kernel')
    .addHelpText('after', examples(['banger kernel show debian-bookworm-cloud']))
    .action(act(ctx, (name: string) => showKernel(ctx, name)));
}

export async function showKernel(ctx: CliContext, name: string): Promise<Outcome> {
  printJson(ctx.output, (await ctx.daemon.call('kernel.show', { name })).kernel);
  return 'ok';
}
