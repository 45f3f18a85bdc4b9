/** `banger image warm NAME [--vcpu N] [--memory SIZE] [--disk-size SIZE]`: build a warm template now. */
import type { Command } from 'commander';
import { formatBytesIec } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';
import { specParams } from '../vm/spec.js';

export function registerWarm(image: Command, ctx: CliContext): Command {
  return image
    .command('warm')
    .argument('<name>', 'image name')
    .option('--vcpu <n>', 'virtual CPUs of the VMs it will serve (default: vm_defaults)')
    .option('--memory <size>', 'their memory, e.g. 2048 (MiB) or 4G')
    .option('--disk-size <size>', 'their /root work disk size, e.g. 8G')
    .description(
      'build the warm template (a memory snapshot of the booted image) that VMs of this shape restore from, now; `vm run` otherwise builds it after the first cold boot',
    )
    .addHelpText(
      'after',
      examples(['banger image warm debian-bookworm', 'banger image warm debian-bookworm --vcpu 4 --memory 4G']),
    )
    .action(
      act(ctx, (name: string, o: { vcpu?: string; memory?: string; diskSize?: string }) => warmImage(ctx, name, o)),
    );
}

async function warmImage(
  ctx: CliContext,
  name: string,
  o: { vcpu?: string; memory?: string; diskSize?: string },
): Promise<Outcome> {
  const { vcpu, memoryMib, diskSizeBytes } = specParams(o);
  const { templates } = await ctx.daemon.call(
    'image.warm',
    { name, vcpu, memoryMib, diskSizeBytes },
    { onProgress: progressPrinter(ctx.output, name) },
  );
  for (const t of templates)
    ctx.output.out(
      `template ${t.key}: ${t.vmm}, ${t.vcpu} vcpu, ${t.memoryMib} MiB, ${formatBytesIec(t.sizeBytes)} on disk\n`,
    );
  return 'ok';
}
