/**
 * `banger-root-helper`: the root helper's own entry point and bundle
 * (dist/banger-root-helper.js), so root loads only the helper's code, never the daemon's.
 *   banger-root-helper [--socket PATH] [--owner-uid N] [--roots DIR,DIR] [--jailer-bin PATH] [--firecracker-bin PATH]
 * An install runs it with no arguments: everything comes from install.toml and the system layout.
 */
import { parseArgs } from 'node:util';
import { versionLine } from '../buildinfo/index.js';
import { BangerError, exitCodeOf, exitReasonOf } from '../model/index.js';
import { systemLayout } from '../paths/index.js';
import { runRootHelper } from './runHelper.js';

const USAGE = 'usage: banger-root-helper [--socket PATH] [--owner-uid N] [--roots DIR,DIR] [--jailer-bin PATH] [--firecracker-bin PATH] [--version]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        socket: { type: 'string' }, 'owner-uid': { type: 'string' }, roots: { type: 'string' }, 'jailer-bin': { type: 'string' }, 'firecracker-bin': { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`banger-root-helper: ${(e as Error).message}\n${USAGE}\n`);
    return exitCodeOf('usage');
  }
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (values.version) { process.stdout.write(`${versionLine('banger-root-helper')}\n`); return 0; }
  const ownerUid = values['owner-uid'] === undefined ? undefined : Number(values['owner-uid']);
  if (ownerUid !== undefined && !(Number.isInteger(ownerUid) && ownerUid >= 0)) {
    process.stderr.write(`banger-root-helper: --owner-uid ${values['owner-uid']} is not a uid\n`);
    return exitCodeOf('usage');
  }
  await runRootHelper({ layout: systemLayout(), socket: values.socket, ownerUid, roots: values.roots?.split(',').filter(Boolean), jailerBin: values['jailer-bin'], firecrackerBin: values['firecracker-bin'] });
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  const err = e instanceof BangerError ? e : new BangerError('operation_failed', e instanceof Error ? e.message : String(e));
  process.stderr.write(`banger-root-helper: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  process.exitCode = exitCodeOf(exitReasonOf(err.code));
});
