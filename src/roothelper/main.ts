/**
 * `banger-root-helper`: the root helper's own entry point and bundle
 * (dist/banger-root-helper.js), so root loads only the helper's code, never the daemon's.
 * An install runs it with no arguments: the owner and the bridge come from install.toml,
 * the directories from the system layout. The options are root's overrides for tests and
 * manual runs.
 */
import { parseArgs } from 'node:util';
import { versionLine } from '../buildinfo/index.js';
import { exitCodeOf } from '../model/index.js';
import { runEntry } from '../system/index.js';
import { systemLayout } from '../paths/index.js';
import { runRootHelper } from './runHelper.js';

const USAGE = `usage: banger-root-helper [--socket PATH] [--owner-uid N] [--owner-gid N] [--state-dir DIR] [--root-state-dir DIR]
                          [--bridge NAME --bridge-ip IP --cidr N] [--nft-table NAME] [--jailer-bin PATH] [--firecracker-bin PATH] [--version]`;

function usageError(message: string): number {
  process.stderr.write(`banger-root-helper: ${message}\n${USAGE}\n`);
  return exitCodeOf('usage');
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        socket: { type: 'string' },
        'owner-uid': { type: 'string' },
        'owner-gid': { type: 'string' },
        'state-dir': { type: 'string' },
        'root-state-dir': { type: 'string' },
        bridge: { type: 'string' },
        'bridge-ip': { type: 'string' },
        cidr: { type: 'string' },
        'nft-table': { type: 'string' },
        'jailer-bin': { type: 'string' },
        'firecracker-bin': { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    return usageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${versionLine('banger-root-helper')}\n`);
    return 0;
  }
  const id = (flag: 'owner-uid' | 'owner-gid' | 'cidr'): number | undefined | null => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : null;
  };
  const [ownerUid, ownerGid, cidr] = [id('owner-uid'), id('owner-gid'), id('cidr')];
  if (ownerUid === null || ownerGid === null || cidr === null)
    return usageError('--owner-uid, --owner-gid and --cidr take non-negative integers');
  const bridgeFlags = [values.bridge, values['bridge-ip'], cidr];
  if (bridgeFlags.some((v) => v !== undefined) && bridgeFlags.some((v) => v === undefined))
    return usageError('--bridge, --bridge-ip and --cidr go together');
  await runRootHelper({
    layout: systemLayout(),
    socket: values.socket,
    ownerUid,
    ownerGid,
    stateDir: values['state-dir'],
    rootStateDir: values['root-state-dir'],
    bridge: values.bridge ? { name: values.bridge, ip: values['bridge-ip']!, cidr: cidr! } : undefined,
    nftTable: values['nft-table'],
    jailerBin: values['jailer-bin'],
    firecrackerBin: values['firecracker-bin'],
  });
  return 0;
}

runEntry(main, (err) => {
  process.stderr.write(`banger-root-helper: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
});
