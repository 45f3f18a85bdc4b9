/**
 * The guest agent's wire protocol (docs/reference/agent.md), host side. One JSON
 * object per line each way; requests carry the protocol version and an id, responses echo
 * the id. The C side is agent/main.c; both must change together, and only in a minor release.
 */
import { parseJsonObject } from '../framing/index.js';
import type { AgentHealth } from '../model/index.js';

export const AGENT_PROTOCOL_VERSION = 1;
/** The vsock port the agent listens on (Firecracker: `CONNECT 10789\n` on the vsock uds). */
export const AGENT_VSOCK_PORT = 10789;
/** The virtio-serial port name (QEMU: `virtserialport,name=banger.agent`). */
export const AGENT_SERIAL_PORT_NAME = 'banger.agent';

/**
 * The error code an agent answers for a method it does not have. Stable across versions: an
 * agent older than `identity` answers it, which the host reads as "this image's agent cannot
 * do warm starts" (boot it cold).
 */
export const AGENT_UNKNOWN_METHOD = 'unknown_method';

/** The `health` answer; its schema is in model/, since `vm.show` passes it on over the RPC. */
export type { AgentHealth };

export interface AgentListener {
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  address: string;
  port: number;
  pid: number | null;
  process: string | null;
}

export interface AgentExecParams {
  argv: string[];
  env?: Record<string, string>;
  /** Absolute; the agent defaults to /root. */
  cwd?: string;
  stdin?: string;
  /** 0 or absent: no limit. */
  timeout_ms?: number;
  /** Bytes kept of stdout and of stderr each (default 1 MiB, at most 16 MiB). */
  max_output?: number;
  /** Output as `stdout`/`stderr` events while the command runs (a `started` event first); the result's stdout/stderr stay empty. */
  stream?: boolean;
  /** With `stream`: stdin stays open for `exec_input` until its `eof`. */
  stdin_open?: boolean;
  /**
   * With `stream`: a terminal session on a pty of this size (output merged into `stdout`
   * events, stdin open, signals to the foreground process group, `exec_resize`). Without
   * argv (empty), the guest's default shell runs as a login shell.
   */
  tty?: AgentTty;
}

/** A terminal's size and type (`TERM`, default xterm). */
export interface AgentTty {
  rows: number;
  cols: number;
  term?: string;
}

/** An event line of a streamed exec: `{"v":1,"id":…,"event":"started","pid":n}` or output as base64. */
export type AgentExecEvent =
  | { id: number | string; event: 'started'; pid: number }
  | { id: number | string; event: 'stdout' | 'stderr'; data: Buffer };

export interface AgentExecResult {
  exit_code: number;
  signal: number;
  timed_out: boolean;
  duration_ms: number;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}

/** The `stats` answer: guest memory, uptime, load and the established TCP connections into the guest. */
export interface AgentStats {
  mem_total_bytes: number;
  mem_available_bytes: number;
  /** total - available */
  mem_used_bytes: number;
  uptime_s: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  /** ESTABLISHED TCP (v4 and v6) sockets on a port the guest listens on, peer not loopback: connections into it (ssh included). */
  tcp_established_in: number;
  /** The listening ports those connections came in on (at most 32). */
  tcp_established_in_ports: number[];
}

/** `identity`'s network step, on the guest's eth0. */
export interface AgentIdentityNetwork {
  /** A unicast MAC, `52:54:00:…`. */
  mac: string;
  /** The new (only) IPv4 address of eth0 with its prefix length, `172.16.0.9/24`. */
  ip_cidr: string;
  /** The default route's gateway; absent: no default route. */
  gateway?: string;
}

/** A file `identity` writes: replaced (temporary file, fsync, rename), parents created 0700. */
export interface AgentIdentityFile {
  /** Absolute, without `..` components. */
  path: string;
  /** Permission bits (384 = 0600, the default). */
  mode?: number;
  content_b64: string;
}

/**
 * `identity`: makes a restored clone its own machine. Every field is optional; the steps run
 * in this order, each only when its field is present: clock, entropy, hostname, machine_id,
 * network, files, sshd_reload (docs/reference/agent.md).
 */
export interface AgentIdentityParams {
  /** The host's time when it sent the request: the guest's CLOCK_REALTIME is stepped to it. */
  clock_unix_ms?: number;
  /** 32 to 512 bytes of host entropy, base64: added to the kernel pool, then the CRNG reseeded. */
  entropy_b64?: string;
  /** A DNS label: the kernel hostname, /etc/hostname and /etc/hosts. */
  hostname?: string;
  /** 32 lowercase hex digits: /etc/machine-id. */
  machine_id?: string;
  network?: AgentIdentityNetwork;
  files?: AgentIdentityFile[];
  /** SIGHUP to sshd (new host keys) and wait, at most 3 s, until 127.0.0.1:22 accepts again. */
  sshd_reload?: boolean;
}

export type AgentIdentityStep = 'clock' | 'entropy' | 'hostname' | 'machine_id' | 'network' | 'files' | 'sshd_reload';

export interface AgentIdentityResult {
  /** The steps that ran, in order (a step whose field was absent is not listed). */
  done: AgentIdentityStep[];
  /** What was skipped or worked around (no sshd, /etc a symlink, an old kernel without RNDRESEEDCRNG, …). */
  notes: string[];
}

export interface AgentMethods {
  health: { params: Record<string, never>; result: AgentHealth };
  ports: { params: Record<string, never>; result: { listeners: AgentListener[] } };
  exec: { params: AgentExecParams; result: AgentExecResult };
  exec_input: {
    params: { job: number | string; data?: string; eof?: boolean };
    result: { buffered: number; closed: boolean };
  };
  exec_signal: { params: { job: number | string; signal: number }; result: { sent: boolean } };
  exec_resize: { params: { job: number | string; rows: number; cols: number }; result: { resized: boolean } };
  shutdown: { params: Record<string, never>; result: { powering_off: boolean } };
  stats: { params: Record<string, never>; result: AgentStats };
  identity: { params: AgentIdentityParams; result: AgentIdentityResult };
  quiesce: { params: Record<string, never>; result: Record<string, never> };
}

export type AgentResponse =
  | { v: number; id: number | string | null; ok: true; result: unknown }
  | { v: number; id: number | string | null; ok: false; error: { code: string; message: string } };

export function encodeRequest(id: number, method: string, params: unknown): string {
  return `${JSON.stringify({ v: AGENT_PROTOCOL_VERSION, id, method, params: params ?? {} })}\n`;
}

/** Parses one response line; null for anything that is not a well-formed response. */
export function decodeResponse(line: string): AgentResponse | null {
  const r = parseJsonObject(line);
  if (!r) return null;
  if (typeof r.ok !== 'boolean' || !('id' in r)) return null;
  if (r.ok === false) {
    const e = r.error as Record<string, unknown> | undefined;
    if (!e || typeof e.code !== 'string' || typeof e.message !== 'string') return null;
  }
  return r as unknown as AgentResponse;
}

/**
 * Whether a line is the agent's `hello` (sent when it opens the serial port: it has just
 * started, so whatever an earlier agent was running is gone).
 */
export function isHello(line: string): boolean {
  const r = parseJsonObject(line);
  return r !== null && r.event === 'hello' && !('id' in r);
}

/** Parses one event line of a streamed exec; null for anything else (a response, or a malformed line). */
export function decodeEvent(line: string): AgentExecEvent | null {
  const r = parseJsonObject(line);
  if (!r) return null;
  if (typeof r.id !== 'number' && typeof r.id !== 'string') return null;
  if (r.event === 'started' && typeof r.pid === 'number') return { id: r.id, event: 'started', pid: r.pid };
  if ((r.event === 'stdout' || r.event === 'stderr') && typeof r.data === 'string')
    return { id: r.id, event: r.event, data: Buffer.from(r.data, 'base64') };
  return null;
}
