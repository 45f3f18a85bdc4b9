/** `banger system install --owner USER`: copy this build into PREFIX and start the root helper and the daemon. */
import type { Command } from 'commander';
import { buildInfo, bundleDir } from '../../../buildinfo/index.js';
import { systemInstall } from '../../../install/index.js';
import type { CliContext } from '../../context.js';
import { usageError } from '../../errors.js';
import { act, examples, type Outcome } from '../verb.js';
import { systemDeps } from './deps.js';

interface InstallOptions {
  owner: string;
  prefix: string;
}

export function registerInstall(system: Command, ctx: CliContext): Command {
  return system
    .command('install')
    .requiredOption('--owner <user>', 'the unprivileged user whose daemon this is')
    .option('--prefix <dir>', 'where the build goes (bin/ and lib/banger/)', '/usr/local')
    .description(
      'copy this build into PREFIX, write install.toml and both systemd units, start the root helper' +
        ' and the daemon (systemd, or the fallback supervisor without it)',
    )
    .addHelpText('after', examples(['sudo banger system install --owner "$USER"']))
    .action(act(ctx, (o: InstallOptions) => install(ctx, o)));
}

export async function install(ctx: CliContext, o: InstallOptions): Promise<Outcome> {
  if (!o.prefix.startsWith('/')) throw usageError(`--prefix ${o.prefix} must be absolute`);
  const r = await systemInstall(systemDeps(ctx), {
    owner: o.owner,
    prefix: o.prefix,
    bundleDir: bundleDir(),
    build: buildInfo,
    node: process.execPath,
  });
  ctx.output.out(
    `installed banger ${r.version} for ${r.owner} (uid ${r.owner_uid}) in ${r.prefix};` +
      ` supervisor: ${r.supervisor}\n`,
  );
  return 'ok';
}
