import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_PINNED_NETWORK, parseInstallToml, type InstallRecord } from '../installmeta/index.js';
import { JsonLogger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import { ROOT_TOOL_PATH, type Layout } from '../paths/index.js';
import { ExecHostRunner } from '../system/index.js';
import { RootHelperServer } from './helperServer.js';
import { detectJailBins, InProcessPrivilegedOps } from './inProcessPrivilegedOps.js';
import type { HelperScope } from './scope.js';

export interface RootHelperArgs {
  layout: Layout;
  /** Overrides for tests and manual runs (root's command line); an install takes them from install.toml and its layout. */
  socket?: string | undefined;
  ownerUid?: number | undefined;
  ownerGid?: number | undefined;
  stateDir?: string | undefined;
  rootStateDir?: string | undefined;
  bridge?: { name: string; ip: string; cidr: number } | undefined;
  nftTable?: string | undefined;
  /** The binaries the helper runs for jailed VMs (root's choice); default: found on PATH. */
  jailerBin?: string | undefined;
  firecrackerBin?: string | undefined;
}

/**
 * `banger-root-helper`: runs the root helper until SIGTERM/SIGINT. Root only. Everything it
 * pins (owner, bridge, directories) comes from root: install.toml and the system layout,
 * or the command line.
 */
export async function runRootHelper(a: RootHelperArgs): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new BangerError('unauthorized', 'the root helper must run as root', {
      hint: 'it is started by bangerd-root.service (`sudo banger system install`)',
    });
  // Tools by a fixed PATH, whatever environment started us.
  process.env.PATH = ROOT_TOOL_PATH;
  const install = a.ownerUid === undefined || a.bridge === undefined ? readInstall(a.layout.installToml) : null;
  const ownerUid = a.ownerUid ?? install!.owner_uid;
  const net = install
    ? {
        ...DEFAULT_PINNED_NETWORK,
        ...definedOnly({ bridge_name: install.bridge_name, bridge_ip: install.bridge_ip, cidr: install.cidr }),
      }
    : null;
  const scope: HelperScope = {
    ownerUid,
    ownerGid: a.ownerGid ?? install?.owner_gid ?? ownerUid,
    ownerStateDir: a.stateDir ?? a.layout.stateDir,
    rootStateDir: a.rootStateDir ?? a.layout.rootStateDir,
    network: a.bridge
      ? { bridgeName: a.bridge.name, bridgeIp: a.bridge.ip, cidr: a.bridge.cidr }
      : { bridgeName: net!.bridge_name, bridgeIp: net!.bridge_ip, cidr: net!.cidr },
  };
  const log = new JsonLogger(process.stdout, 'info', { component: 'root-helper' });
  const found = detectJailBins();
  const jail = { jailerBin: a.jailerBin ?? found.jailerBin, firecrackerBin: a.firecrackerBin ?? found.firecrackerBin };
  const ops = new InProcessPrivilegedOps({
    runner: new ExecHostRunner(),
    log,
    scope,
    jail,
    ...(a.nftTable && { nftTable: a.nftTable }),
  });
  const socket = a.socket ?? a.layout.rootHelperSocket;
  const server = new RootHelperServer({ socketPath: socket, ownerUid, ops, log });
  await server.listen();
  log.info('root helper started', {
    pid: process.pid,
    socket,
    owner_uid: ownerUid,
    owner_state: scope.ownerStateDir,
    root_state: scope.rootStateDir,
    bridge: scope.network,
  });
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  await server.close();
  log.info('root helper stopped');
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function readInstall(installToml: string): InstallRecord {
  if (!existsSync(installToml))
    throw new BangerError('not_found', `no ${installToml}: the root helper serves an installed owner`, {
      hint: 'install with `sudo banger system install --owner USER`, or give --owner-uid and --bridge',
    });
  try {
    return parseInstallToml(readFileSync(installToml, 'utf8'));
  } catch (e) {
    throw new BangerError('config_invalid', `${installToml}: ${(e as Error).message}`);
  }
}
