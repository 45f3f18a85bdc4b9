import { existsSync, readFileSync } from 'node:fs';
import { parseInstallToml } from '../installmeta/index.js';
import { JsonLogger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { ExecHostRunner } from '../system/index.js';
import { RootHelperServer } from './helperServer.js';
import { detectJailBins, InProcessPrivilegedOps } from './inProcessPrivilegedOps.js';

export interface RootHelperArgs {
  layout: Layout;
  /** Overrides for tests and manual runs; an install takes them from its layout and install.toml. */
  socket?: string | undefined;
  ownerUid?: number | undefined;
  roots?: string[] | undefined;
  /** The binaries the helper runs for jailed VMs (root's choice); default: found on PATH. */
  jailerBin?: string | undefined;
  firecrackerBin?: string | undefined;
}

/**
 * `bangerd --root-helper`: runs the root helper until SIGTERM/SIGINT. Root only. The owner
 * uid comes from install.toml (`owner_uid`) unless given; the directories it may touch are
 * the layout's state and runtime directories.
 */
export async function runRootHelper(a: RootHelperArgs): Promise<void> {
  if (process.getuid?.() !== 0) throw new BangerError('unauthorized', 'the root helper must run as root', { hint: 'it is started by bangerd-root.service (`sudo banger system install`)' });
  const ownerUid = a.ownerUid ?? readOwnerUid(a.layout.installToml);
  const log = new JsonLogger(process.stdout, 'info', { component: 'root-helper' });
  const found = detectJailBins();
  const jail = { jailerBin: a.jailerBin ?? found.jailerBin, firecrackerBin: a.firecrackerBin ?? found.firecrackerBin };
  const ops = new InProcessPrivilegedOps({ runner: new ExecHostRunner(), log, roots: a.roots ?? [a.layout.stateDir, a.layout.runtimeDir], jail });
  const server = new RootHelperServer({ socketPath: a.socket ?? a.layout.rootHelperSocket, ownerUid, ops, log });
  await server.listen();
  log.info('root helper started', { pid: process.pid, socket: a.socket ?? a.layout.rootHelperSocket, owner_uid: ownerUid });
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  await server.close();
  log.info('root helper stopped');
}

function readOwnerUid(installToml: string): number {
  if (!existsSync(installToml)) throw new BangerError('not_found', `no ${installToml}: the root helper serves an installed owner`, { hint: 'install with `sudo banger system install --owner USER`, or give --owner-uid' });
  try {
    return parseInstallToml(readFileSync(installToml, 'utf8')).owner_uid;
  } catch (e) {
    throw new BangerError('config_invalid', `${installToml}: ${(e as Error).message}`);
  }
}
