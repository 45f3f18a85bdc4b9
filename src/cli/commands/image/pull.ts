/** `banger image pull NAME`: obtain a catalog image and its kernel. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerPull(image: Command, ctx: CliContext): Command {
  return image
    .command('pull')
    .argument('<name>', 'catalog name, e.g. debian-bookworm')
    .description('obtain a catalog image (built from the Debian mirror) and its kernel')
    .addHelpText('after', examples(['banger image pull debian-bookworm']))
    .action(act(ctx, (name: string) => pullImage(ctx, name)));
}

export async function pullImage(ctx: CliContext, name: string): Promise<Outcome> {
  const { image: img } = await ctx.daemon.call('image.pull', { name }, { onProgress: progressPrinter(ctx.output) });
  ctx.output.out(`${img.name} ready (${img.rootfsPath})\n`);
  return 'ok';
}
