import { z } from 'zod';
import { VM_STATES, VMM_KINDS } from '../model/index.js';
import { defineMethod } from './methodDef.js';

/**
 * The method table of bangerd: the single source of truth for method names, their
 * params and results. docs/reference/rpc.md is checked against it by a test.
 */
const vmRef = z.strictObject({ name: z.string().min(1).max(253) });

export const vmWire = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(VM_STATES),
  imageId: z.string().nullable(),
  imageName: z.string().nullable(),
  spec: z.object({ vcpu: z.number(), memoryMib: z.number(), diskSizeBytes: z.number(), systemOverlaySizeBytes: z.number() }),
  guestIp: z.string().nullable(),
  mac: z.string().nullable(),
  vmDir: z.string(),
  dnsName: z.string(),
  vmm: z.enum(VMM_KINDS),
  nat: z.boolean(),
  workspace: z.object({ guestPath: z.string(), hostPath: z.string(), baseCommit: z.string().nullable(), head: z.string().nullable() }).nullable(),
  createdAt: z.string(),
  touchedAt: z.string(),
  lastError: z.string().nullable(),
});

export const operationWire = z.object({
  id: z.string(),
  kind: z.string(),
  vm: z.string().nullable(),
  stage: z.string().nullable(),
  startedAt: z.string(),
  doneAt: z.string().nullable(),
  error: z.string().nullable(),
});

export const daemonInfoWire = z.object({
  pid: z.number(),
  version: z.string(),
  commit: z.string(),
  builtAt: z.string(),
  protocolVersion: z.number(),
  mode: z.enum(['user', 'system']),
  socket: z.string(),
  stateDir: z.string(),
  configFile: z.string(),
  uptimeMs: z.number(),
});

export const METHODS = {
  ping: defineMethod({
    name: 'ping',
    summary: "Liveness check; returns the daemon's pid, build, mode, socket and uptime.",
    params: z.strictObject({}),
    result: daemonInfoWire,
    tracked: false,
    progress: false,
  }),
  shutdown: defineMethod({
    name: 'shutdown',
    summary: 'Stops the daemon after answering. Running VMs keep running.',
    params: z.strictObject({}),
    result: z.object({ stopping: z.literal(true) }),
    tracked: true,
    progress: false,
  }),
  'daemon.operations.list': defineMethod({
    name: 'daemon.operations.list',
    summary: 'In-flight and recently finished operations: kind, id, VM, stage, started, done, error.',
    params: z.strictObject({}),
    result: z.object({ operations: z.array(operationWire) }),
    tracked: false,
    progress: false,
  }),
  'vm.list': defineMethod({
    name: 'vm.list',
    summary: 'All VMs with their state, image, address and spec.',
    params: z.strictObject({}),
    result: z.object({ vms: z.array(vmWire) }),
    tracked: false,
    progress: false,
  }),
  'vm.show': defineMethod({
    name: 'vm.show',
    summary: 'One VM by name, id or unique id prefix.',
    params: vmRef,
    result: z.object({ vm: vmWire }),
    tracked: false,
    progress: false,
  }),
} as const;

export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
