import { connect, type Socket } from 'node:net';
import { LineSplitter, LineTooLongError, readLine } from '../framing/index.js';
import {
  AGENT_UNKNOWN_METHOD,
  decodeEvent,
  decodeResponse,
  encodeRequest,
  isHello,
  type AgentExecEvent,
  type AgentExecParams,
  type AgentExecResult,
  type AgentHealth,
  type AgentIdentityParams,
  type AgentIdentityResult,
  type AgentListener,
  type AgentMethods,
  type AgentStats,
} from './protocol.js';

/**
 * How to reach a VM's agent. QEMU exposes the virtio-serial port as a unix socket;
 * Firecracker exposes guest vsock as a unix socket that wants a `CONNECT <port>` line first.
 */
export type AgentEndpoint = { kind: 'unix'; path: string } | { kind: 'vsock-uds'; path: string; port: number };

/** Raised for anything the agent or the channel to it did wrong; `code` is the agent's error code or a transport one. */
export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether e is the agent saying it has no such method (an agent older than the method). */
export function isAgentUnknownMethod(e: unknown): boolean {
  return e instanceof AgentError && e.code === AGENT_UNKNOWN_METHOD;
}

const MAX_LINE = 32 * 1024 * 1024;

/**
 * One connection to an agent; requests may overlap and are matched to responses by id.
 * Lines that answer no pending request (left over from an earlier client of the same
 * serial stream) are ignored.
 */
export class AgentClient {
  private nextId = Math.floor(Math.random() * 1e9);
  private readonly pending = new Map<
    number,
    {
      resolve: (v: unknown) => void;
      reject: (e: Error) => void;
      timer: NodeJS.Timeout | undefined;
      onEvent?: ((e: AgentExecEvent) => void) | undefined;
    }
  >();
  private closedError: AgentError | null = null;
  private readonly lines = new LineSplitter(
    MAX_LINE,
    (line) => this.onLine(line),
    () => {
      this.failAll(new AgentError('transport', 'agent sent a line longer than 32 MiB'));
      this.socket.destroy();
    },
  );

  /** `initial`: bytes that arrived with the transport handshake and belong to the protocol stream. */
  constructor(
    private readonly socket: Socket,
    initial: Buffer = Buffer.alloc(0),
  ) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.lines.push(chunk));
    socket.on('error', (e) => this.failAll(new AgentError('transport', `agent connection failed: ${e.message}`)));
    socket.on('close', () => this.failAll(new AgentError('transport', 'agent connection closed')));
    if (initial.length > 0) this.lines.push(initial);
  }

  /** Whether the connection is gone (every later request fails at once). */
  get closed(): boolean {
    return this.closedError !== null;
  }

  private onLine(line: string): void {
    const r = decodeResponse(line);
    if (!r && isHello(line)) return this.failStreams();
    if (!r) {
      const e = decodeEvent(line);
      if (e && typeof e.id === 'number') this.pending.get(e.id)?.onEvent?.(e);
      return;
    }
    if (typeof r.id !== 'number') return;
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.result);
    else p.reject(new AgentError(r.error.code, r.error.message));
  }

  /**
   * A new agent opened the serial port (the one before it died, and a serial port's host side
   * never sees that): the streamed commands it ran are gone and would wait for ever. Requests
   * with a timeout end by themselves; the connection stays, the new agent serves it.
   */
  private failStreams(): void {
    for (const [id, p] of this.pending) {
      if (!p.onEvent) continue;
      this.pending.delete(id);
      p.reject(new AgentError('transport', 'the guest agent restarted; the command it ran is gone'));
    }
  }

  private failAll(e: AgentError): void {
    this.closedError ??= e;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }

  /** One request; `timeoutMs` 0 waits as long as the connection lives. */
  request<M extends keyof AgentMethods>(
    method: M,
    params: AgentMethods[M]['params'],
    timeoutMs = 10_000,
  ): Promise<AgentMethods[M]['result']> {
    return this.send(this.nextId++, method, params, timeoutMs);
  }

  private send<M extends keyof AgentMethods>(
    id: number,
    method: M,
    params: AgentMethods[M]['params'],
    timeoutMs: number,
    onEvent?: (e: AgentExecEvent) => void,
  ): Promise<AgentMethods[M]['result']> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new AgentError('timeout', `the agent did not answer "${method}" within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, onEvent });
      this.socket.write(encodeRequest(id, method, params));
    });
  }

  /**
   * A streamed exec: `onEvent` gets `started`, then the output as it arrives; `done` settles
   * with the status once the command has exited. `job` names it to execInput and execSignal.
   */
  execStream(
    params: Omit<AgentExecParams, 'stream'>,
    onEvent: (e: AgentExecEvent) => void,
  ): { job: number; done: Promise<AgentExecResult> } {
    const job = this.nextId++;
    return { job, done: this.send(job, 'exec', { ...params, stream: true }, 0, onEvent) };
  }
  /** Feeds a streamed command's stdin (`stdin_open`); answers what the agent still holds unread. */
  execInput(job: number, data: Buffer | null, eof = false): Promise<{ buffered: number; closed: boolean }> {
    return this.request('exec_input', { job, ...(data && { data: data.toString('base64') }), ...(eof && { eof }) });
  }
  /** Sets a terminal session's window size (the command gets SIGWINCH). */
  execResize(job: number, rows: number, cols: number): Promise<{ resized: boolean }> {
    return this.request('exec_resize', { job, rows, cols });
  }
  /** Signals a running command's process group (a terminal session's foreground one). */
  execSignal(job: number, signal: number): Promise<{ sent: boolean }> {
    return this.request('exec_signal', { job, signal });
  }

  health(timeoutMs?: number): Promise<AgentHealth> {
    return this.request('health', {}, timeoutMs);
  }
  async ports(timeoutMs?: number): Promise<AgentListener[]> {
    return (await this.request('ports', {}, timeoutMs)).listeners;
  }
  exec(params: AgentExecParams, timeoutMs = (params.timeout_ms ?? 0) + 30_000): Promise<AgentExecResult> {
    return this.request('exec', params, timeoutMs);
  }
  shutdown(timeoutMs?: number): Promise<{ powering_off: boolean }> {
    return this.request('shutdown', {}, timeoutMs);
  }

  stats(timeoutMs?: number): Promise<AgentStats> {
    return this.request('stats', {}, timeoutMs);
  }

  /**
   * Gives a restored clone its own identity (the steps in AgentIdentityParams). Fails with
   * `identity_failed` ("STEP: what failed"; the later steps did not run), `bad_request`
   * (nothing was changed), or `unknown_method` from an agent too old for warm starts
   * (isAgentUnknownMethod). The default timeout covers the agent's 3 s sshd wait.
   */
  identity(params: AgentIdentityParams, timeoutMs = 10_000): Promise<AgentIdentityResult> {
    return this.request('identity', params, timeoutMs);
  }

  /** Before a template is saved: sync, then drop the guest's page cache (`quiesce_failed` on error). */
  async quiesce(timeoutMs = 60_000): Promise<void> {
    await this.request('quiesce', {}, timeoutMs);
  }

  /** Lets the process exit while this connection is open (a daemon's long-lived connection). */
  unref(): void {
    this.socket.unref?.();
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}

/** Connects to an agent endpoint (with the vsock handshake where needed). */
export function connectAgent(endpoint: AgentEndpoint, timeoutMs = 2_000): Promise<AgentClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(endpoint.path);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        e instanceof AgentError
          ? e
          : new AgentError('transport', `cannot reach the agent at ${endpoint.path}: ${e.message}`),
      );
    };
    const timer = setTimeout(
      () => fail(new AgentError('timeout', `no agent connection at ${endpoint.path} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', fail);
    socket.once('connect', () => {
      if (endpoint.kind === 'unix') {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(new AgentClient(socket));
        return;
      }
      // Firecracker's vsock uds: "CONNECT <port>\n" answered by "OK <host port>\n";
      // nobody listening on that port in the guest: Firecracker closes the connection.
      socket.write(`CONNECT ${endpoint.port}\n`);
      readLine(socket, 64).then(
        ({ line, rest }) => {
          if (!/^OK \d+$/.test(line)) {
            fail(
              new AgentError(
                'transport',
                `vsock handshake refused: "${line.slice(0, 80)}" (is the agent listening on port ${endpoint.port}?)`,
              ),
            );
            return;
          }
          clearTimeout(timer);
          socket.off('error', fail);
          resolve(new AgentClient(socket, rest));
        },
        (e: Error) =>
          fail(
            new AgentError(
              'transport',
              e instanceof LineTooLongError
                ? 'vsock handshake: no answer line'
                : `vsock handshake: connection closed (is the agent listening on port ${endpoint.port}?)`,
            ),
          ),
      );
    });
  });
}
