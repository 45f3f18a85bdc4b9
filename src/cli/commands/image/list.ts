/** `banger image list` (alias `ls`): local images. */
import type { Command } from 'commander';
import { formatSize } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { escapeForTerminalLine } from '../../terminalText.js';
import { formatAge, printJson, renderTable } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';

export function registerList(image: Command, ctx: CliContext): Command {
  return image
    .command('list')
    .alias('ls')
    .description('list local images')
    .addHelpText('after', examples(['banger image list --json']))
    .action(act(ctx, (_o: unknown, cmd: Command) => listImages(ctx, isJson(cmd))));
}

export async function listImages(ctx: CliContext, json: boolean): Promise<Outcome> {
  const { images } = await ctx.daemon.call('image.list', {});
  if (json) printJson(ctx.output, images);
  else if (!images.length) {
    ctx.output.out(
      'no images yet: `banger image pull debian-bookworm` (or the first `banger vm run`)' + ' obtains the default\n',
    );
  } else {
    // Source and distribution can come from a pulled image (its reference, its os-release).
    const rows = images.map((i) => [
      i.name,
      escapeForTerminalLine(i.source),
      escapeForTerminalLine(i.distro ?? '-'),
      formatSize(i.sizeBytes),
      formatAge(i.createdAt),
    ]);
    ctx.output.out(renderTable(['NAME', 'SOURCE', 'DISTRO', 'SIZE', 'CREATED'], rows));
  }
  return 'ok';
}
