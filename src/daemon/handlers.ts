import { buildInfo } from '../buildinfo/index.js';
import type { DnsStatus, Handlers, Methods } from '../rpc/index.js';
import { PROTOCOL_VERSION } from '../rpc/index.js';
import type { Layout } from '../paths/index.js';
import type { OperationRegistry } from '../opstate/index.js';
import type { ImageService } from './imageService.js';
import type { ForwardService } from './forwardService.js';
import type { KernelService } from './kernelService.js';
import type { StatsPoller } from './stats/poller.js';
import type { VmService } from './vmService.js';
import type { WorkspaceService } from './workspaceService.js';

export interface HandlerDeps {
  layout: Layout;
  configFile: string;
  startedAt: number;
  vms: VmService;
  images: ImageService;
  kernels: KernelService;
  workspaces: WorkspaceService;
  stats: StatsPoller;
  forwards: ForwardService;
  operations: OperationRegistry;
  dnsStatus: () => Promise<DnsStatus>;
  /** Called after the shutdown answer is written. */
  requestShutdown: () => void;
}

type H = Handlers<Methods>;
/** The handlers of the methods named `<prefix>.…`. */
type Group<P extends string> = Pick<H, Extract<keyof H, `${P}.${string}`>>;

/** The dispatch table: one entry per method of rpc/methods.ts, each a thin call into a service. */
export function createHandlers(d: HandlerDeps): H {
  return { ...daemonHandlers(d), ...vmHandlers(d), ...imageHandlers(d), ...kernelHandlers(d) };
}

function daemonHandlers(d: HandlerDeps): Pick<H, 'ping' | 'shutdown' | 'daemon.operations.list' | 'dns.status'> {
  return {
    ping: async () => ({
      pid: process.pid,
      version: buildInfo.version,
      commit: buildInfo.commit,
      builtAt: buildInfo.builtAt,
      protocolVersion: PROTOCOL_VERSION,
      mode: d.layout.mode,
      socket: d.layout.daemonSocket,
      stateDir: d.layout.stateDir,
      configFile: d.configFile,
      uptimeMs: Date.now() - d.startedAt,
    }),
    shutdown: async () => {
      setImmediate(d.requestShutdown);
      return { stopping: true as const };
    },
    'daemon.operations.list': async () => ({ operations: d.operations.list() }),
    'dns.status': async () => d.dnsStatus(),
  };
}

function vmHandlers(d: HandlerDeps): Group<'vm'> {
  return {
    'vm.list': async () => ({ vms: d.vms.list() }),
    'vm.show': async ({ name }) => {
      const vm = d.vms.show(name);
      return {
        vm,
        runtime: await d.vms.runtime(vm),
        autoStop: d.stats.autoStop(vm),
        forwards: d.forwards.list(vm),
      };
    },
    'vm.create': async (p, c) => {
      const vm = await d.vms.create(p, c);
      return { vm, ssh: d.vms.sshTarget(vm) };
    },
    'vm.start': async ({ name }, c) => ({ vm: await d.vms.start(name, c) }),
    'vm.stop': async ({ name, save }, c) => ({ vm: await d.vms.stop(name, c, { save: save ?? false }) }),
    'vm.pause': async ({ name }, c) => ({ vm: await d.vms.pause(name, c) }),
    'vm.resume': async ({ name }, c) => ({ vm: await d.vms.resume(name, c) }),
    'vm.fork': async ({ name, as }, c) => ({ vm: await d.vms.fork(name, as === undefined ? {} : { name: as }, c) }),
    'vm.restart': async ({ name }, c) => ({ vm: await d.vms.restart(name, c) }),
    'vm.set': async ({ name, ...spec }, c) => ({ vm: await d.vms.set(name, spec, c) }),
    'vm.kill': async ({ name, signal }, c) => ({ vm: await d.vms.kill(name, signal, c) }),
    'vm.delete': async ({ name }, c) => {
      const vm = d.vms.show(name);
      await d.vms.delete(vm.id, c);
      return { deleted: vm.name };
    },
    'vm.prune': async (_p, c) => ({ deleted: await d.vms.prune(c) }),
    'vm.ssh_target': async ({ name }) => {
      const vm = d.vms.show(name);
      d.vms.requireRunning(vm);
      d.vms.touch(vm.id); // ssh and exec start here: a use of the VM
      return { vm: d.vms.show(vm.id), ssh: d.vms.sshTarget(vm) };
    },
    'vm.logs': async ({ name, offset }) => d.vms.logs(name, offset),
    'vm.ports': async ({ names }) => ({ ports: await d.vms.ports(names) }),
    'vm.stats': async ({ names }) => ({ stats: await d.stats.stats(names), pollIntervalMs: d.stats.intervalMs }),
    'vm.exec': async (p, c) => d.vms.exec(p, { output: c.output, input: c.input }, c),
    'vm.health': async ({ names }) => ({ vms: await d.vms.health(names) }),
    'vm.ping': async ({ names }) => ({ vms: await d.vms.ping(names) }),
    'vm.workspace.plan': async ({ nat, ...req }) => d.workspaces.summary(await d.workspaces.preflight(req, nat)),
    'vm.workspace.prepare': async ({ name, ...o }, c) => d.vms.prepareWorkspace(name, o, c),
    'vm.workspace.export': async ({ name, baseCommit }) => d.vms.exportWorkspace(name, baseCommit),
    ...forwardHandlers(d),
  };
}

/** `vm forward`: a VM's port forwards (daemon/forwardService.ts). */
function forwardHandlers(d: HandlerDeps): Group<'vm.forward'> {
  return {
    'vm.forward.add': async ({ name, forwards }) => ({ forwards: await d.forwards.add(d.vms.show(name), forwards) }),
    'vm.forward.remove': async ({ name, locals }) => ({ forwards: await d.forwards.remove(d.vms.show(name), locals) }),
    'vm.forward.list': async ({ name }) => ({ forwards: d.forwards.list(d.vms.show(name)) }),
  };
}

function imageHandlers(d: HandlerDeps): Group<'image'> {
  return {
    'image.list': async () => ({ images: d.images.list() }),
    'image.catalog': async () => ({ images: d.images.catalog() }),
    'image.show': async ({ name }) => {
      const image = d.images.show(name);
      return { image, templates: d.vms.templatesOf(image.id) };
    },
    'image.warm': async ({ name, ...spec }, c) => ({ templates: await d.vms.warmImage({ name, ...spec }, c) }),
    'image.pull': async ({ name, ...opts }, c) => ({ image: await d.images.pull(name, c, opts) }),
    'image.cache.prune': async ({ dryRun }) => ({
      ...d.images.pruneCache(dryRun ?? false),
      dryRun: dryRun ?? false,
      templates: d.vms.pruneTemplates({ dryRun: dryRun ?? false }),
    }),
    'image.delete': async ({ name }) => {
      const image = d.images.show(name);
      d.images.delete(name);
      d.vms.pruneTemplates({ imageId: image.id });
      return { deleted: name };
    },
    'image.register': async (p) => ({ image: d.images.register(p) }),
  };
}

function kernelHandlers(d: HandlerDeps): Group<'kernel'> {
  return {
    'kernel.list': async () => ({ kernels: d.kernels.list() }),
    'kernel.catalog': async () => ({ kernels: d.kernels.catalog() }),
    'kernel.show': async ({ name }) => ({ kernel: d.kernels.show(name) }),
    'kernel.pull': async ({ name }, c) => ({ kernel: await d.kernels.pull(name, c) }),
    'kernel.rm': async ({ name }) => {
      d.kernels.remove(name);
      return { deleted: name };
    },
    'kernel.import': async ({ name, dir }) => ({ kernel: d.kernels.import(name, dir) }),
  };
}
