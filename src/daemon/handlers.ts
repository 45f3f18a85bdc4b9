import { buildInfo } from '../buildinfo/index.js';
import type { Handlers, Methods } from '../rpc/index.js';
import { PROTOCOL_VERSION } from '../rpc/index.js';
import type { Layout } from '../paths/index.js';
import type { OperationRegistry } from '../opstate/index.js';
import type { VmService } from './vmService.js';

export interface HandlerDeps {
  layout: Layout;
  configFile: string;
  startedAt: number;
  vms: VmService;
  operations: OperationRegistry;
  /** Called after the shutdown answer is written. */
  requestShutdown: () => void;
}

/** The dispatch table: one entry per method of rpc/methods.ts, each a thin call into a service. */
export function createHandlers(d: HandlerDeps): Handlers<Methods> {
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
    'vm.list': async () => ({ vms: d.vms.list() }),
    'vm.show': async ({ name }) => ({ vm: d.vms.show(name) }),
  };
}
