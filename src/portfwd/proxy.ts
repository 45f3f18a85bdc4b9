/**
 * A userspace TCP proxy: listens on one host address and port and pipes each accepted
 * connection to a target address and port (a guest's, over the project bridge). No root and
 * no firewall rule: it is an ordinary socket of the daemon's user.
 *
 * Each connection is two `pipe`s, so backpressure is the streams' own; both sockets allow
 * half-open, so a client that shuts down its sending side still gets the rest of the answer;
 * an error on either side destroys both. Errors are logged, never thrown out of the proxy.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/index.js';

/** Connections one forward serves at once; more are refused until one ends. */
export const MAX_CONNECTIONS_PER_FORWARD = 256;
/** How long a connection to the guest may take to open. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface TcpProxyOptions {
  listenHost: string;
  listenPort: number;
  target: ProxyTarget;
  log: Logger;
  /** Fields every log line of this proxy carries (e.g. the VM and ports). */
  logFields?: Record<string, unknown>;
}

/** One open listener and its live connections. */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: Server,
    private readonly o: TcpProxyOptions,
  ) {}

  /** Opens the listener; rejects with the listen error (EADDRINUSE, EACCES, …) and leaves nothing open. */
  static async open(o: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    // Any local user can connect to 127.0.0.1: a cap keeps the daemon's descriptors for its own work.
    server.maxConnections = MAX_CONNECTIONS_PER_FORWARD;
    const proxy = new TcpProxy(server, o);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.listenHost, port: o.listenPort, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => o.log.warn('forward listener error', { ...o.logFields, error: e.message }));
    return proxy;
  }

  private accept(client: Socket): void {
    const { target, log, logFields } = this.o;
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    // A guest that never answers the SYN does not hold the client's connection for minutes.
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timed out')));
    upstream.once('connect', () => upstream.setTimeout(0));
    this.track(client);
    this.track(upstream);
    let failed = false;
    const fail = (side: string) => (e: Error) => {
      if (!failed) {
        failed = true;
        // The guest side failing (nothing listens there, the VM went away) is worth a warning; a client's reset is not.
        const fields = { ...logFields, side, error: e.message };
        if (side === 'guest') log.warn('forwarded connection failed', fields);
        else log.debug('forwarded connection failed', fields);
      }
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail('client'));
    upstream.on('error', fail('guest'));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  /** Stops listening and drops every live connection; idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    return this.closing;
  }
}
