/** `banger update` (docs/howto/system-install.md): manual only; the hidden options exist for tests. */
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { buildInfo, updateAnchors } from '../../buildinfo/index.js';
import { systemLayout } from '../../paths/index.js';
import { ExecHostRunner } from '../../system/index.js';
import { runUpdate } from '../../updater/index.js';
import type { CliContext } from '../context.js';
import { act, type Outcome } from './verb.js';

interface UpdateOptions {
  check?: boolean;
  to?: string;
  dryRun?: boolean;
  force?: boolean;
  allowDowngrade?: boolean;
  manifestUrl?: string;
  pubkeyFile?: string;
}

export function registerUpdateCommand(program: Command, ctx: CliContext): Command {
  return program
    .command('update')
    .option('--check', 'only say whether an update is available')
    .option('--to <version>', 'update (or go back) to this release instead of the latest stable one')
    .option('--dry-run', 'download, verify and stage the release, then stop without changing anything')
    .option('--force', 'even while the daemon is busy, or to reinstall the same version')
    .option('--allow-downgrade', 'accept a release older than the installed one (refused otherwise)')
    .addOption(new Option('--manifest-url <url>').hideHelp())
    .addOption(new Option('--pubkey-file <file>').hideHelp())
    .description(
      'update the system install to a signed release; running VMs keep running, and a failed update' + ' rolls back',
    )
    .addHelpText(
      'after',
      [
        '',
        'Refused, with nothing changed: a version that is not vMAJOR.MINOR.PATCH, a signature that does',
        'not cover the target release, a redirect to another host, and (without --allow-downgrade) a',
        "release older than the installed one. The release is staged in /var/cache/banger-root (root's).",
        '',
        'Examples:',
        '  banger update --check',
        '  sudo banger update',
        '  sudo banger update --to v0.2.0 --dry-run',
        '  sudo banger update --to v0.1.0 --allow-downgrade',
      ].join('\n'),
    )
    .action(act(ctx, (o: UpdateOptions) => update(ctx, o)));
}

export async function update(ctx: CliContext, o: UpdateOptions): Promise<Outcome> {
  const message = await runUpdate(
    { runner: new ExecHostRunner(), layout: systemLayout(), progress: (m) => ctx.output.err(`  ${m}\n`) },
    {
      check: !!o.check,
      to: o.to,
      dryRun: !!o.dryRun,
      force: !!o.force,
      allowDowngrade: !!o.allowDowngrade,
      current: buildInfo,
      manifestUrl: o.manifestUrl ?? updateAnchors.manifestUrl,
      publicKeyPem: o.pubkeyFile ? readFileSync(o.pubkeyFile, 'utf8') : updateAnchors.publicKeyPem,
    },
  );
  ctx.output.out(`${message}\n`);
  return 'ok';
}
