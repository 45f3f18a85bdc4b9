/** `banger image delete NAME` (alias `rm`): delete an image that no VM uses. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerDelete(image: Command, ctx: CliContext): Command {
  return image
    .command('delete')
    .alias('rm')
    .argument('<name>')
    .description('delete an image that no VM uses')
    .addHelpText('after', examples(['banger image delete old-image']))
    .action(act(ctx, (name: string) => deleteImage(ctx, name)));
}

export async function deleteImage(ctx: CliContext, name: string): Promise<Outcome> {
  await ctx.daemon.call('image.delete', { name });
  ctx.output.out(`deleted ${name}\n`);
  return 'ok';
}
