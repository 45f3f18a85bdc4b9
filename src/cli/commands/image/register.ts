/** `banger image register NAME`: adopt local artifacts as a managed image. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';

interface RegisterOptions {
  rootfs: string;
  kernel: string;
  workSeed?: string;
}

export function registerRegister(image: Command, ctx: CliContext): Command {
  return image
    .command('register')
    .argument('<name>')
    .requiredOption('--rootfs <file>', 'ext4 root filesystem image')
    .requiredOption('--kernel <name>', 'an installed kernel (see `banger kernel list`)')
    .option('--work-seed <file>', "ext4 image to clone as each VM's /root")
    .description('adopt local artifacts as a managed image')
    .addHelpText(
      'after',
      examples(['banger image register mine --rootfs ./rootfs.ext4 --kernel debian-bookworm-cloud']),
    )
    .action(act(ctx, (name: string, o: RegisterOptions) => registerImage(ctx, name, o)));
}

export async function registerImage(ctx: CliContext, name: string, o: RegisterOptions): Promise<Outcome> {
  const params = {
    name,
    rootfs: resolve(o.rootfs),
    kernel: o.kernel,
    ...(o.workSeed && { workSeed: resolve(o.workSeed) }),
  };
  const { image: img } = await ctx.daemon.call('image.register', params);
  ctx.output.out(`registered ${img.name}\n`);
  return 'ok';
}
