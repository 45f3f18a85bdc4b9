import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { buildInfo, updateAnchors } from '../../buildinfo/index.js';
import { systemLayout } from '../../paths/index.js';
import { ExecHostRunner } from '../../system/index.js';
import { runUpdate } from '../../updater/update.js';
import type { CliContext } from '../context.js';

/** `banger update` (SPEC 9): manual only; the hidden options exist for tests. */
export function registerUpdateCommand(program: Command, ctx: CliContext): void {
  program.command('update')
    .option('--check', 'only say whether an update is available')
    .option('--to <version>', 'update (or go back) to this release instead of the latest stable one')
    .option('--dry-run', 'download, verify and stage the release, then stop without changing anything')
    .option('--force', 'even while the daemon is busy, or to reinstall the same version')
    .addOption(new Option('--manifest-url <url>').hideHelp())
    .addOption(new Option('--pubkey-file <file>').hideHelp())
    .description('update the system install to a signed release; running VMs keep running, and a failed update rolls back')
    .addHelpText('after', '\nExamples:\n  banger update --check\n  sudo banger update\n  sudo banger update --to v0.2.0 --dry-run')
    .action(async (o: { check?: boolean; to?: string; dryRun?: boolean; force?: boolean; manifestUrl?: string; pubkeyFile?: string }) => {
      const message = await runUpdate(
        { runner: new ExecHostRunner(), layout: systemLayout(), progress: (m) => ctx.output.err(`  ${m}\n`) },
        {
          check: !!o.check, to: o.to, dryRun: !!o.dryRun, force: !!o.force, current: buildInfo,
          manifestUrl: o.manifestUrl ?? updateAnchors.manifestUrl,
          publicKeyPem: o.pubkeyFile ? readFileSync(o.pubkeyFile, 'utf8') : updateAnchors.publicKeyPem,
        },
      );
      ctx.output.out(`${message}\n`);
    });
}
