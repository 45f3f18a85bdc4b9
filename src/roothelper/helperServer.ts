import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { LineTooLongError, readLine as readFirstLine } from '../framing/index.js';
import type { Logger } from '../log/index.js';
import { asBangerError, BangerError } from '../model/index.js';
import { PRIV_METHOD_BY_WIRE, validatingOps, type PrivilegedOps } from '../privops/index.js';
import {
  HELPER_MAX_REQUEST,
  HELPER_PROTOCOL_VERSION,
  type HelperRequest,
  type HelperResponse,
} from './helperProtocol.js';
import { peerCredentials, type PeerCred } from './peerCred.js';

export interface RootHelperOptions {
  socketPath: string;
  /** The install's owner (install.toml); with uid 0 the only peers served. */
  ownerUid: number;
  ops: PrivilegedOps;
  log: Logger;
  /** The socket file's mode; 0600 owned by the owner in an install. Tests open it wider to prove the peer check. */
  socketMode?: number;
  /** Reads the peer; tests never replace it (it is the real SO_PEERCRED). */
  peer?: (s: Socket) => PeerCred;
}

/**
 * The root helper: serves the `priv.*` operations declared in privops/surface.ts to the owner's
 * daemon on a unix socket. Every connection is checked against the kernel's peer
 * credentials (uid 0 or the owner, nobody else) before a byte is read; then one request,
 * one response, one log line. Connections are independent, so requests run in parallel.
 */
export class RootHelperServer {
  private server: Server | null = null;
  /** The operations behind the declared surface: parameters parsed strictly before anything runs. */
  private readonly ops: PrivilegedOps;

  constructor(private readonly o: RootHelperOptions) {
    this.ops = validatingOps(o.ops);
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.o.socketPath), { recursive: true, mode: 0o711 });
    rmSync(this.o.socketPath, { force: true });
    const server = createServer((s) => void this.serve(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.socketPath, () => resolve());
    });
    chmodSync(this.o.socketPath, this.o.socketMode ?? 0o600);
    chownSync(this.o.socketPath, this.o.ownerUid, -1);
    this.server = server;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    rmSync(this.o.socketPath, { force: true });
  }

  /** Answers and closes; what the peer still sends is drained so the connection can end. */
  private reply(s: Socket, r: HelperResponse): void {
    s.end(`${JSON.stringify(r)}\n`);
    s.resume();
  }

  private async serve(s: Socket): Promise<void> {
    s.on('error', () => {
      /* the peer went away; nothing to answer */
    });
    // A peer that connects and then sends no request must not hold a connection for ever.
    s.setTimeout(60_000, () => s.destroy());
    const peer = this.admit(s);
    if (!peer) return;
    const line = await readLine(s, HELPER_MAX_REQUEST).catch((e: Error) => e);
    s.setTimeout(0); // the request is in: the operation may take its time
    if (line instanceof Error) {
      this.reply(s, { ok: false, error: { code: 'bad_request', message: line.message } });
      return;
    }
    this.reply(s, await this.answer(line, peer));
  }

  /**
   * The peer, from the kernel's credentials, if it may be served: uid 0 or the owner. Anyone
   * else, or a peer that cannot be identified, is answered `unauthorized` (and logged) here,
   * and null is returned: the caller reads nothing from that connection.
   */
  private admit(s: Socket): PeerCred | null {
    let peer: PeerCred;
    try {
      peer = (this.o.peer ?? peerCredentials)(s);
    } catch (e) {
      this.o.log.warn('helper: cannot read peer credentials; connection refused', { error: (e as Error).message });
      this.reply(s, {
        ok: false,
        error: { code: 'unauthorized', message: 'the helper cannot identify this connection' },
      });
      return null;
    }
    if (peer.uid !== 0 && peer.uid !== this.o.ownerUid) {
      this.o.log.warn('helper: connection refused', { peer_uid: peer.uid, peer_pid: peer.pid });
      this.reply(s, {
        ok: false,
        error: {
          code: 'unauthorized',
          message: `uid ${peer.uid} may not use the root helper (only root and the owner, uid ${this.o.ownerUid})`,
        },
      });
      return null;
    }
    return peer;
  }

  /**
   * Runs one admitted request line and gives the response; never throws. Whatever fails
   * (parsing, an unknown method, the operation) becomes an error response, with its
   * BangerError code or operation_failed. Logs one line per request either way.
   */
  private async answer(line: string, peer: PeerCred): Promise<HelperResponse> {
    const started = performance.now();
    let req: HelperRequest | null = null;
    try {
      req = parseRequest(line);
      const method = PRIV_METHOD_BY_WIRE.get(req.method);
      if (!method)
        throw new BangerError('unknown_method', `the root helper has no operation "${req.method}"`, {
          hint: `known: ${[...PRIV_METHOD_BY_WIRE.keys()].join(', ')}`,
        });
      const fn = this.ops[method] as (p: unknown, ctx: { opId: string }) => Promise<unknown>;
      const result = await fn(req.params ?? {}, { opId: req.op_id });
      this.o.log.info('helper request', {
        op_id: req.op_id,
        method: req.method,
        peer_uid: peer.uid,
        peer_pid: peer.pid,
        ok: true,
        ms: Math.round(performance.now() - started),
      });
      return { ok: true, result: result ?? null };
    } catch (e) {
      const err = asBangerError(e);
      this.o.log.warn('helper request', {
        op_id: req?.op_id ?? null,
        method: req?.method ?? null,
        peer_uid: peer.uid,
        peer_pid: peer.pid,
        ok: false,
        code: err.code,
        error: err.message,
      });
      return { ok: false, error: { code: err.code, message: err.message, ...(err.hint && { hint: err.hint }) } };
    }
  }
}

function parseRequest(line: string): HelperRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new BangerError('bad_request', 'the request is not JSON');
  }
  const r = v as Partial<HelperRequest>;
  if (typeof v !== 'object' || v === null || typeof r.method !== 'string' || typeof r.op_id !== 'string') {
    throw new BangerError('bad_request', 'a request is {"v":1,"op_id":"…","method":"priv.…","params":{…}}');
  }
  if (r.v !== HELPER_PROTOCOL_VERSION)
    throw new BangerError(
      'bad_version',
      `the root helper speaks version ${HELPER_PROTOCOL_VERSION}, not ${String(r.v)}`,
      { hint: 'restart both with the same banger version (`banger system restart`)' },
    );
  if (typeof r.params !== 'object' || r.params === null || Array.isArray(r.params))
    throw new BangerError('bad_request', 'params must be an object');
  return r as HelperRequest;
}

/**
 * The first line on the socket, at most `max` bytes (framing in framing/), with the root
 * helper's wording for what went wrong; the client reads its answer the same way.
 */
export function readLine(s: Socket, max: number): Promise<string> {
  return readFirstLine(s, max).then(
    ({ line }) => line,
    (e: Error) => {
      throw new Error(
        e instanceof LineTooLongError
          ? `request larger than ${max} bytes`
          : 'the connection closed before a full request line',
      );
    },
  );
}
