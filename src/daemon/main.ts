import { parseArgs } from 'node:util';
import { versionLine } from '../buildinfo/index.js';
import { exitCodeOf } from '../model/index.js';
import { runEntry } from '../system/index.js';
import { resolveLayout } from '../paths/index.js';
import { checkMigrations } from '../store/index.js';
import { runImportWorker } from '../ociimage/index.js';
import { startDaemon } from './daemon.js';

/**
 * `bangerd` entry point.
 *   bangerd                         run the daemon (user mode unless installed)
 *   bangerd --system                run in system mode
 *   bangerd --check-migrations [--system]
 *                                   print one line; exit 0 compatible, 1 migrations needed, 2 incompatible
 *   bangerd --import-image PARAMS.json
 *                                   build an image from pulled layers (the daemon's child; src/ociimage/worker.ts)
 *   bangerd --version
 */
const USAGE = 'usage: bangerd [--system] [--check-migrations] [--version]';

/** mkfs.ext4, debugfs, ip and friends live in sbin, which a user's PATH may lack. */
function withSbinOnPath(env: NodeJS.ProcessEnv): void {
  const parts = (env.PATH ?? '/usr/bin:/bin').split(':');
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!parts.includes(d)) parts.push(d);
  env.PATH = parts.join(':');
}

async function main(): Promise<number> {
  withSbinOnPath(process.env);
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        system: { type: 'boolean' },
        'check-migrations': { type: 'boolean' },
        'import-image': { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`bangerd: ${(e as Error).message}\n${USAGE}\n`);
    return exitCodeOf('usage');
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${versionLine('bangerd')}\n`);
    return 0;
  }

  // The daemon's child that builds a pulled image (src/ociimage/worker.ts).
  if (values['import-image']) return runImportWorker(values['import-image']);

  const layout = resolveLayout(process.env, values.system ? 'system' : undefined);
  if (values['check-migrations']) {
    const report = checkMigrations(layout.dbFile);
    process.stdout.write(`${report.line}\n`);
    return report.exitCode;
  }

  const result = await startDaemon({ layout, env: process.env });
  if (result.kind === 'already_running') return 0;
  const { daemon } = result;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void daemon.stop(`received ${sig}`));
  // SIGHUP from a closing terminal must not stop a daemon that VMs depend on.
  process.on('SIGHUP', () => {});
  await daemon.stopped;
  return 0;
}

runEntry(main, (err) => {
  // One JSON line for the log (the CLI that auto-started us reads it), then plain text.
  process.stdout.write(
    `${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'daemon failed to start', error: err.message, code: err.code, hint: err.hint })}\n`,
  );
  process.stderr.write(`bangerd: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
});
