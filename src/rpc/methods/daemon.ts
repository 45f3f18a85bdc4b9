import { z } from 'zod';
import { defineMethod } from '../methodDef.js';

// The daemon's own methods: liveness, shutdown, its operations, and its .vm DNS server.

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

export const dnsStatusWire = z.object({
  listening: z.array(z.string()),
  records: z.array(z.object({ name: z.string(), ip: z.string() })),
  resolved: z.object({ present: z.boolean(), routed: z.boolean(), detail: z.string() }),
  upstreams: z.array(z.string()),
  /** How to make the host resolve .vm by hand (docs/howto/networking.md recipes), for this daemon's addresses. */
  recipes: z.string(),
});

/** Liveness, shutdown and the operations in flight. */
export const DAEMON_METHODS = {
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
} as const;

/** The daemon's .vm DNS server. */
export const DNS_METHODS = {
  'dns.status': defineMethod({
    name: 'dns.status',
    summary: 'Where the .vm DNS server listens, the records it serves, and whether systemd-resolved routes .vm to it.',
    params: z.strictObject({}),
    result: dnsStatusWire,
    tracked: false,
    progress: false,
  }),
} as const;
