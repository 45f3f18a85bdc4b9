/** `banger image pull NAME|REF`: obtain a catalog image, or any OCI image from a registry, and its kernel. */
import type { Command } from 'commander';
import { DISK_SIZE_LIMIT, formatBytesIec, limitProblem, parseSize } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { usageError } from '../../errors.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';

interface PullOptions {
  name?: string;
  size?: string;
  kernel?: string;
  insecure?: boolean;
  installSshd?: boolean;
}

export function registerPull(image: Command, ctx: CliContext): Command {
  return image
    .command('pull')
    .argument('<name-or-ref>', 'catalog name (debian-bookworm) or OCI reference (docker.io/library/alpine:3.20)')
    .description('obtain a catalog image, or pull any linux/amd64 OCI image into a bootable one, with its kernel')
    .option('--name <name>', 'image name for an OCI pull (default: from the reference, e.g. alpine-3.20)')
    .option('--size <size>', 'root filesystem size for an OCI pull, e.g. 4G (default: content x 1.5, at least 1G)')
    .option('--kernel <name>', 'kernel to boot it with (default: the default kernel)')
    .option('--insecure', 'allow plain http to a registry that is not on loopback')
    .option('--install-sshd', 'install openssh-server at first boot with the image package manager (needs --nat)')
    .addHelpText(
      'after',
      examples([
        'banger image pull debian-bookworm',
        'banger image pull docker.io/library/alpine:3.20',
        'banger image pull 127.0.0.1:5000/team/dev:1 --name dev --size 8G',
      ]),
    )
    .action(act(ctx, (name: string, o: PullOptions) => pullImage(ctx, name, o)));
}

export async function pullImage(ctx: CliContext, name: string, o: PullOptions = {}): Promise<Outcome> {
  const params = {
    name,
    ...(o.name !== undefined && { as: o.name }),
    ...(o.size !== undefined && { sizeBytes: sizeBytes(o.size) }),
    ...(o.kernel !== undefined && { kernel: o.kernel }),
    ...(o.insecure && { insecure: true }),
    ...(o.installSshd && { installSshd: true }),
  };
  const { image: img } = await ctx.daemon.call('image.pull', params, { onProgress: progressPrinter(ctx.output) });
  const from = img.oci ? ` from ${img.oci.ref} (${img.oci.manifestDigest.slice(0, 19)}…)` : '';
  ctx.output.out(`${img.name} ready${from}: ${formatBytesIec(img.sizeBytes)} rootfs at ${img.rootfsPath}\n`);
  return 'ok';
}

function sizeBytes(shown: string): number {
  const value = parseSize(shown);
  const problem = limitProblem(DISK_SIZE_LIMIT, value, shown);
  if (problem) throw usageError(`--size: ${problem}`, 'the limits are in docs/howto/vms.md');
  return value;
}
