/**
 * The composition root of bangerd (docs/architecture.md): constructs the real runner, store,
 * logger and services, serves RPC, and shuts down cleanly. Nothing below this file
 * creates its own dependencies.
 */
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { OpCtx } from '../opctx/index.js';
import { buildInfo } from '../buildinfo/index.js';
import { loadConfig, type Config } from '../config/index.js';
import { JsonLogger, type Logger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import { newOpId, OperationRegistry } from '../opstate/index.js';
import { ensurePrivateDir, type Layout } from '../paths/index.js';
import {
  deviceMapperAvailable,
  InProcessPrivilegedOps,
  RemotePrivilegedOps,
  UnavailablePrivilegedOps,
  type JailBins,
} from '../roothelper/index.js';
import { validatingOps, type PrivilegedOps } from '../privops/index.js';
import { METHODS, RpcServer, type Methods } from '../rpc/index.js';
import { Store } from '../store/index.js';
import { ExecHostRunner, ProcessSupervisor, which, type HostRunner } from '../system/index.js';
import { QemuDriver, readAccelFacts } from '../qemu/index.js';
import { FirecrackerDriver } from '../firecracker/index.js';
import { kvmVerdict } from '../vmm/index.js';
import { accelProbeFile } from '../paths/index.js';
import { buildDefaultImageInVm } from './defaultImageInVm.js';
import { ImageService } from './imageService.js';
import { KernelService } from './kernelService.js';
import { hostPreflight } from './preflight.js';
import { claimLayout } from './daemonLock.js';
import { startDns, type DnsWiring } from './dnsWiring.js';
import { createHandlers } from './handlers.js';
import { VmService, type VmServiceDeps } from './vmService.js';
import { NatController } from './natController.js';
import { TapPool } from './tapPool.js';
import { WorkspaceService } from './workspaceService.js';
import { CleanupStack } from './cleanupStack.js';
import { StatsPoller } from './stats/poller.js';
import { ForwardService } from './forwardService.js';

export interface RunningDaemon {
  /** Resolves when the daemon has stopped (shutdown RPC or signal). */
  stopped: Promise<void>;
  stop(reason: string): Promise<void>;
}

export interface StartDaemonOptions {
  layout: Layout;
  env: NodeJS.ProcessEnv;
  /** Where the JSON log lines go (stdout: a file under the supervisor, the journal under systemd). */
  out?: Writable;
}

export type StartResult = { kind: 'started'; daemon: RunningDaemon } | { kind: 'already_running'; pid: number };

/**
 * Root: in-process, behind the same declared surface as the helper, scoped to this daemon's
 * own directories and config. Otherwise the root helper in system mode (an install) or when
 * its socket exists, else a clear refusal.
 */
function privilegedOpsFor(
  runner: HostRunner,
  log: Logger,
  layout: Layout,
  config: Config,
  jail: JailBins,
): PrivilegedOps {
  if (process.getuid?.() === 0) {
    const scope = {
      ownerUid: 0,
      ownerGid: process.getgid!(),
      ownerStateDir: layout.stateDir,
      rootStateDir: layout.rootStateDir,
      network: { bridgeName: config.bridge_name, bridgeIp: config.bridge_ip, cidr: config.cidr },
    };
    return validatingOps(new InProcessPrivilegedOps({ runner, log, scope, jail }));
  }
  // Installed, a helper is always there, reached per request (at boot it may not listen yet).
  if (layout.mode === 'system' || existsSync(layout.rootHelperSocket))
    return new RemotePrivilegedOps(layout.rootHelperSocket);
  return new UnavailablePrivilegedOps();
}

export async function startDaemon({ layout, env, out = process.stdout }: StartDaemonOptions): Promise<StartResult> {
  const lifecycleOp = newOpId();
  // Until the config is read, log at info; config errors are reported through this logger.
  let log: Logger = new JsonLogger(out, 'info', { op_id: lifecycleOp });
  if (layout.mode === 'system' && process.getuid?.() === 0) {
    throw new BangerError('unauthorized', 'bangerd must not run as root in system mode', {
      hint: 'it runs as the owner user from bangerd.service; privileged work goes to the root helper',
    });
  }
  const config: Config = loadConfig({ layout, env });
  log = new JsonLogger(out, config.log_level, { op_id: lifecycleOp });

  for (const dir of [layout.stateDir, layout.logsDir, layout.vmsDir, layout.imagesDir, layout.kernelsDir])
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  ensurePrivateDir(layout.runtimeDir, process.getuid!());

  const lock = await claimLayout(layout.daemonPidFile, layout.daemonSocket);
  if (!lock.acquired) {
    log.info('another bangerd already serves this layout', { pid: lock.holderPid, socket: layout.daemonSocket });
    return { kind: 'already_running', pid: lock.holderPid };
  }

  // Each resource started below pushes its undo: a failed start-up unwinds them newest
  // first, and so does stop() once the daemon has run.
  const undo = new CleanupStack();
  undo.push('release the daemon lock', () => lock.release());
  try {
    const daemon = await serve({ layout, config, log, lifecycleOp }, undo);
    log.info('daemon started', {
      pid: process.pid,
      version: buildInfo.version,
      commit: buildInfo.commit,
      mode: layout.mode,
      socket: layout.daemonSocket,
      config: config.source.exists ? config.source.path : 'defaults (no config file)',
      privileged: process.getuid?.() === 0 ? 'in-process (root)' : daemon.privileged,
    });
    return { kind: 'started', daemon: daemon.running };
  } catch (e) {
    await undo.unwind();
    throw e;
  }
}

/** Both VMM back-ends, and what the host offers them (read at each create). */
function vmmBackends(o: {
  layout: Layout;
  config: Config;
  log: Logger;
  runner: HostRunner;
  privileged: PrivilegedOps;
  firecrackerBin: string | null;
}): Pick<VmServiceDeps, 'drivers' | 'hostFacts'> {
  const { layout, config, log, runner, privileged, firecrackerBin } = o;
  const supervisor = new ProcessSupervisor();
  const drivers = {
    qemu: new QemuDriver({
      qemuBin: config.qemu_bin,
      accelSetting: config.accel,
      accelProbeFile: accelProbeFile(layout),
      supervisor,
      log,
    }),
    firecracker: new FirecrackerDriver({
      firecrackerBin,
      runner,
      supervisor,
      privileged,
      log,
      jailer: { enabled: config.jailer_enabled },
    }),
  };
  const hostFacts = () => ({
    firecrackerBin,
    kvm: kvmVerdict(readAccelFacts(accelProbeFile(layout))),
    deviceMapper: deviceMapperAvailable(),
  });
  return { drivers, hostFacts };
}

/** Builds the services (each undo pushed onto `undo`), reconciles, and serves RPC; stop() unwinds `undo`. */
async function serve(
  o: { layout: Layout; config: Config; log: Logger; lifecycleOp: string },
  undo: CleanupStack,
): Promise<{ running: RunningDaemon; privileged: string }> {
  const { layout, config, log } = o;
  const ctx = { opId: o.lifecycleOp };
  const store = openStore(layout, undo);
  const s = await buildServices({ layout, config, log, store }, ctx, undo);
  const startedAt = Date.now();
  const reconciled = await s.vms.reconcile(ctx);
  if (reconciled.adopted.length || reconciled.stopped.length || reconciled.taps.deleted.length)
    log.info('reconciled VMs', reconciled);
  const tidied = await s.vms.tidyTemplates(ctx);
  if (tidied.length) log.info('removed warm-template scratch an earlier daemon left', { removed: tidied });
  undo.push('cancel warm-template builds', () => s.vms.stopTemplateBuilds());
  const stats = new StatsPoller({
    vms: s.vms,
    log,
    intervalMs: config.stats_poll_interval,
    autoStopAfterMs: config.auto_stop_stale_after,
  });
  stats.start();
  undo.push('stop the stats poller', () => stats.stop());
  undo.push('close port forwards', () => s.forwards.closeAll());
  const forwarding = await s.forwards.restore(s.vms.list());
  if (forwarding) log.info('port forwards restored', { listening: forwarding });

  const running = stopOnce(log, undo);
  const server: RpcServer<Methods> = new RpcServer({
    socketPath: layout.daemonSocket,
    methods: METHODS,
    log,
    operations: s.operations,
    handlers: createHandlers({
      layout,
      configFile: config.source.path,
      startedAt,
      vms: s.vms,
      images: s.images,
      kernels: s.kernels,
      operations: s.operations,
      workspaces: s.workspaces,
      stats,
      forwards: s.forwards,
      dnsStatus: s.dns.status,
      requestShutdown: () => void running.stop('shutdown requested over RPC'),
    }),
  });
  await server.listen();
  undo.push('close the RPC server', () => server.close());
  return { running, privileged: s.privileged.constructor.name };
}

/**
 * Opens the state database (its close pushed onto `undo`) and removes a stale daemon
 * socket. Only called with the daemon lock held.
 */
function openStore(layout: Layout, undo: CleanupStack): Store {
  const store = Store.open(layout.dbFile);
  undo.push('close the store', () => store.close());
  // We hold the lock, so a socket file left behind belongs to a dead daemon.
  try {
    unlinkSync(layout.daemonSocket);
  } catch {
    /* none */
  }
  return store;
}

/** What the RPC handlers are given, and what the daemon reports of its privileged side. */
interface Services {
  operations: OperationRegistry;
  privileged: PrivilegedOps;
  kernels: KernelService;
  images: ImageService;
  dns: DnsWiring;
  workspaces: WorkspaceService;
  vms: VmService;
  forwards: ForwardService;
}

/**
 * Builds every service in dependency order over one runner; DNS is started (and its undo
 * pushed onto `undo`), and the tap pool's refills are waited for when `undo` unwinds.
 */
async function buildServices(
  o: { layout: Layout; config: Config; log: Logger; store: Store },
  ctx: OpCtx,
  undo: CleanupStack,
): Promise<Services> {
  const { layout, config, log, store } = o;
  const runner = new ExecHostRunner();
  const operations = new OperationRegistry();
  const firecrackerBin = config.firecracker_bin ?? which('firecracker');
  // A root daemon runs the jailer itself, with the binaries of its own config.
  const privileged = privilegedOpsFor(runner, log, layout, config, { jailerBin: config.jailer_bin, firecrackerBin });
  const { drivers, hostFacts } = vmmBackends({ layout, config, log, runner, privileged, firecrackerBin });
  const preflight = hostPreflight({ pathEnv: process.env.PATH ?? '', qemuBin: config.qemu_bin });
  const kernels = new KernelService({ store, runner, layout, defaultName: config.default_kernel_name, preflight });
  const defaultImage = { source: config.default_image_source, ociBase: config.default_image_oci_base };
  const images = new ImageService({ store, runner, layout, kernels, privileged, preflight, defaultImage });
  tidyArtifacts(kernels, images, log);
  const dns = await startDns({ config, store, runner, privileged, log }, ctx, undo);
  const nat = new NatController({
    privileged,
    runner,
    log,
    bridge: config.bridge_name,
    uplink: config.nat_uplink ?? undefined,
    stateFile: join(layout.stateDir, 'nat.json'),
  });
  const taps = new TapPool({ privileged, log, bridge: config.bridge_name, size: config.tap_pool_size });
  undo.push('let tap refills settle', () => taps.settled());
  const workspaces = new WorkspaceService({ runner, store, log });
  // The forwards ask the VMs whether one runs; the VMs tell the forwards when one starts or stops.
  const forwards = new ForwardService({
    store,
    log,
    isRunning: (vm) => {
      const now = vms.show(vm.id); // read again: the caller's record may predate a start or stop
      return now.state === 'running' && vms.isAlive(now);
    },
  });
  const vms: VmService = new VmService({
    store,
    layout,
    config,
    runner,
    privileged,
    drivers,
    hostFacts,
    preflight,
    images,
    nat,
    taps,
    workspaces,
    log,
    onBridgeReady: dns.listenOnBridge,
    forwards,
  });
  images.useInVmBuilder((entry, baseRef, c) =>
    buildDefaultImageInVm({ vms, images, runner, layout }, entry, baseRef, c),
  );
  return { operations, privileged, kernels, images, dns, workspaces, vms, forwards };
}

/**
 * At start: scratch a daemon killed mid-pull or mid-build left in the images directory goes,
 * and kernels pulled by an earlier banger get this build's initramfs /init (one that cannot is logged).
 */
function tidyArtifacts(kernels: KernelService, images: ImageService, log: Logger): void {
  const stale = images.removeStaleScratch();
  if (stale.length) log.info('removed scratch left by an interrupted image pull or build', { dirs: stale });
  for (const r of kernels.refreshInitramfs())
    if ('error' in r) log.warn('could not refresh the initramfs of a kernel', r);
    else if (r.refreshed) log.info('initramfs refreshed for this banger version', r);
}

/**
 * The daemon's stop: the first call logs, unwinds `undo` (newest first, logging what failed)
 * and resolves `stopped`; later calls return the same promise.
 */
function stopOnce(log: Logger, undo: CleanupStack): RunningDaemon {
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });
  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('daemon stopping', { reason });
      const errors = await undo.unwind();
      if (errors.length) log.warn('daemon stop was incomplete', { errors });
      log.info('daemon stopped');
      resolveStopped();
    })();
    return stopping;
  };
  return { stopped, stop };
}
