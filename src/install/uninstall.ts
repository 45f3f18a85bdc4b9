import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import type { InstallRecord } from '../installmeta/index.js';
import { DEFAULT_BRIDGE_NAME } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { parseTapList } from '../roothelper/index.js';
import { METHODS, RpcClient } from '../rpc/index.js';
import { removeTreeAt } from '../system/index.js';
import { readInstall, requireRoot, UNIT_DIR, type SystemDeps } from './common.js';
import { restoreTunDevice } from './hostDirs.js';
import { stopAll } from './lifecycle.js';
import { removeInstall } from './place.js';
import { DAEMON_UNIT, HELPER_UNIT } from './units.js';

/**
 * `banger system uninstall [--purge]`: stops the helper and the daemon, removes the units,
 * the build and its launchers, and puts back what install changed on the host. With purge,
 * also the VMs, the bridge with its taps, and every state, cache, runtime and config directory.
 */
export async function systemUninstall(d: SystemDeps, o: { purge: boolean }): Promise<InstallRecord> {
  requireRoot('system uninstall');
  const r = readInstall(d.layout);
  const { layout: l } = d;
  // Purging deletes the VMs' disks: delete the VMs properly first, while the daemon runs.
  if (o.purge) await deleteVms(d);
  await stopAndRemoveUnits(d, r);
  removeInstall(r.prefix);
  // What install changed on the host goes back as it was.
  restoreTunDevice(r.tun_mode_before);
  rmSync(l.installToml, { force: true });
  rmSync(l.rootHelperSocket, { force: true });
  rmSync(l.daemonSocket, { force: true });
  for (const dir of [join(r.prefix, 'bin'), join(r.prefix, 'lib')]) {
    try {
      rmdirSync(dir);
    } catch {
      /* not empty (other software lives there) or gone */
    }
  }
  if (o.purge) {
    await purgeNetwork(d);
    purgeDirectories(l);
  }
  return r;
}

/** Deletes every VM through the running daemon; when it cannot, says so and carries on (the files go with the state). */
async function deleteVms(d: SystemDeps): Promise<void> {
  try {
    const client = new RpcClient(d.layout.daemonSocket, METHODS);
    for (const vm of (await client.call('vm.list', {})).vms) await client.call('vm.delete', { name: vm.name });
  } catch (e) {
    d.progress?.(
      `could not delete VMs through the daemon (${(e as Error).message}); their files go with the state directory`,
    );
  }
}

/** Stops (and under systemd disables) both services, then removes their unit files; failures to stop are ignored. */
async function stopAndRemoveUnits(d: SystemDeps, r: InstallRecord): Promise<void> {
  if (r.supervisor === 'systemd')
    await d.runner.run(['systemctl', 'disable', '--now', DAEMON_UNIT, HELPER_UNIT], { allowFailure: true });
  else await stopAll(d, r);
  const unitDir = d.unitDir ?? UNIT_DIR;
  for (const u of [DAEMON_UNIT, HELPER_UNIT]) rmSync(join(unitDir, u), { force: true });
  if (r.supervisor === 'systemd') await d.runner.run(['systemctl', 'daemon-reload'], { allowFailure: true });
}

/**
 * The bridge and the warm taps on it are banger's too; purge takes them (docs/howto/networking.md
 * keeps them otherwise). The bridge is the config's, or the default one when the config is broken.
 */
async function purgeNetwork(d: SystemDeps): Promise<void> {
  let bridge: string = DEFAULT_BRIDGE_NAME;
  try {
    bridge = loadConfig({ layout: d.layout, env: {} }).bridge_name;
  } catch {
    /* a broken config: the default bridge */
  }
  const links = await d.runner.run(['ip', '-o', 'link', 'show'], { allowFailure: true });
  for (const t of parseTapList(links.stdout).filter((t) => t.master === bridge))
    await d.runner.run(['ip', 'link', 'del', 'dev', t.name], { allowFailure: true });
  if (existsSync(`/sys/class/net/${bridge}`))
    await d.runner.run(['ip', 'link', 'del', 'dev', bridge], { allowFailure: true });
}

/** Removes the owner's directories and root's own (config included). */
function purgeDirectories(l: Layout): void {
  // The owner's trees may change under root's feet: removed through descriptors, never by path.
  for (const dir of [l.stateDir, l.cacheDir, l.runtimeDir]) removeTreeAt(dir);
  for (const dir of [l.rootHelperRuntimeDir, l.rootStateDir, l.rootCacheDir, l.configDir])
    rmSync(dir, { recursive: true, force: true });
}
