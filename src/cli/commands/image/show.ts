/** `banger image show NAME`: one image, with its warm templates, as JSON. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerShow(image: Command, ctx: CliContext): Command {
  return image
    .command('show')
    .argument('<name>')
    .description('show one image')
    .addHelpText('after', examples(['banger image show debian-bookworm']))
    .action(act(ctx, (name: string) => showImage(ctx, name)));
}

export async function showImage(ctx: CliContext, name: string): Promise<Outcome> {
  const { image, templates } = await ctx.daemon.call('image.show', { name });
  printJson(ctx.output, { ...image, templates });
  return 'ok';
}
