/** `banger kernel import NAME --from DIR`: adopt a kernel from a local directory. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerImport(kernel: Command, ctx: CliContext): Command {
  return kernel
    .command('import')
    .argument('<name>')
    .requiredOption('--from <dir>', 'directory with vmlinuz (or vmlinux) and optional initrd.img')
    .description('adopt a kernel from a local directory')
    .addHelpText('after', examples(['banger kernel import mine --from ./kernel-out']))
    .action(act(ctx, (name: string, o: { from: string }) => importKernel(ctx, name, o.from)));
}

export async function importKernel(ctx: CliContext, name: string, from: string): Promise<Outcome> {
  const { kernel: k } = await ctx.daemon.call('kernel.import', { name, dir: resolve(from) });
  ctx.output.out(`imported ${k.name}\n`);
  return 'ok';
}
