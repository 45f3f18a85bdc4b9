/** `banger system uninstall [--purge]`: stop and remove the install; --purge removes all data too. */
import type { Command } from 'commander';
import { systemUninstall } from '../../../install/index.js';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';
import { systemDeps } from './deps.js';

export function registerUninstall(system: Command, ctx: CliContext): Command {
  return system
    .command('uninstall')
    .option('--purge', 'also delete every VM, image, kernel, the state, cache and config')
    .description('stop and remove the install (units, launchers, build, install.toml); --purge removes all data too')
    .addHelpText('after', examples(['sudo banger system uninstall', 'sudo banger system uninstall --purge']))
    .action(act(ctx, (o: { purge?: boolean }) => uninstall(ctx, !!o.purge)));
}

export async function uninstall(ctx: CliContext, purge: boolean): Promise<Outcome> {
  const r = await systemUninstall(systemDeps(ctx), { purge });
  const kept = purge ? ' and purged its data' : ' (state kept in /var/lib/banger; --purge removes it)';
  ctx.output.out(`uninstalled banger ${r.version}${kept}\n`);
  return 'ok';
}
