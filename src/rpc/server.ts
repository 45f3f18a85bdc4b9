import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, unlinkSync } from 'node:fs';
import type { z } from 'zod';
import { BangerError, isRpcErrorCode } from '../model/index.js';
import type { Logger } from '../log/index.js';
import type { OpCtx } from '../opctx/index.js';
import { newOpId, type OperationRegistry } from '../opstate/index.js';
import { ClientInput, type InputChannel } from './clientInput.js';
import type { MethodTable } from './methodDef.js';
import { onLines } from '../framing/index.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION, type ServerMessage, type WireError } from './protocol.js';

/** Output bytes a client may leave unread before its guest command is stopped (rpc `output` lines). */
const OUTPUT_BACKLOG_BYTES = 16 << 20;

/** What a handler gets besides its params: the operation's OpCtx, every part of it present. */
export interface OpContext extends OpCtx {
  opId: string;
  /** Aborted when the client disconnects before the answer, or the daemon shuts down. */
  signal: AbortSignal;
  progress(stage: string, detail?: string): void;
  log: Logger;
  /** Sends a guest command's output to the client, before the answer. */
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** What the client sends after its request (stdin, signals). */
  input: InputChannel;
}

export type Handlers<T extends MethodTable> = {
  [M in keyof T]: (params: z.output<T[M]['params']>, ctx: OpContext) => Promise<z.input<T[M]['result']>>;
};

export interface RpcServerOptions<T extends MethodTable> {
  socketPath: string;
  methods: T;
  handlers: Handlers<T>;
  log: Logger;
  operations: OperationRegistry;
  protocolVersion?: number;
}

/**
 * Serves a method table on a unix socket (mode 0600). The server only parses and
 * validates; handlers receive typed params (docs/architecture.md; as Firecracker's HTTP layer only parses,
 * then hands a typed action on).
 */
export class RpcServer<T extends MethodTable> {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly shutdown = new AbortController();

  constructor(private readonly opts: RpcServerOptions<T>) {}

  async listen(): Promise<void> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The umask-independent way to keep the socket private is to chmod right after bind;
      // the runtime dir is 0700 too, so there is no window where others can connect.
      server.listen(this.opts.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.opts.socketPath, 0o600);
  }

  /** Stops accepting, aborts in-flight handlers, and removes the socket file. */
  async close(): Promise<void> {
    this.shutdown.abort();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.end();
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 1000).unref();
    });
    try {
      unlinkSync(this.opts.socketPath);
    } catch {
      /* already gone */
    }
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {
      /* a client that vanished; the close handler cleans up */
    });
    let handled = false;
    const input = new ClientInput(socket);
    onLines(
      socket,
      MAX_REQUEST_BYTES,
      (line) => {
        // One request per connection; later lines are its input.
        if (handled) return input.push(line);
        handled = true;
        void this.handle(socket, line, input);
      },
      () => {
        handled = true;
        this.send(socket, {
          type: 'error',
          op_id: newOpId(),
          error: { code: 'bad_request', message: `request larger than ${MAX_REQUEST_BYTES} bytes` },
        });
        socket.end();
      },
    );
  }

  private send(socket: Socket, msg: ServerMessage): void {
    if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(msg)}\n`);
  }

  private async handle(socket: Socket, line: string, input: ClientInput): Promise<void> {
    const opId = newOpId();
    const log = this.opts.log.child({ op_id: opId });
    const request = this.parseRequest(line);
    if ('error' in request) {
      log.info('rpc refused', { code: request.error.code, error: request.error.message });
      this.send(socket, { type: 'error', op_id: opId, error: request.error });
      socket.end();
      return;
    }
    await this.run(socket, opId, log, request.method, request.params, input);
  }

  /** The request line checked against the protocol version and the method table, or the wire error to answer with. */
  private parseRequest(line: string): { method: string; params: unknown } | { error: WireError } {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { error: { code: 'bad_request', message: 'request is not valid JSON' } };
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req))
      return { error: { code: 'bad_request', message: 'request must be a JSON object' } };
    const { v, method, params } = req as Record<string, unknown>;
    const expected = this.opts.protocolVersion ?? PROTOCOL_VERSION;
    if (v !== expected) {
      return {
        error: {
          code: 'bad_version',
          message: `protocol version ${JSON.stringify(v ?? null)} is not supported; this daemon speaks version ${expected}`,
          hint: 'the CLI and daemon come from different builds: run `banger daemon stop` so the CLI starts a matching daemon',
        },
      };
    }
    if (typeof method !== 'string' || !Object.hasOwn(this.opts.methods, method)) {
      return {
        error: {
          code: 'unknown_method',
          message: `unknown method ${JSON.stringify(method ?? null)}`,
          hint: 'see docs/reference/rpc.md for the method list; the daemon may be older than the CLI',
        },
      };
    }
    const parsed = this.opts.methods[method]!.params.safeParse(params ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length ? `params.${issue.path.join('.')}` : 'params';
      const message =
        issue.code === 'unrecognized_keys'
          ? `${where}: unknown field(s) ${issue.keys.join(', ')}`
          : `${where}: ${issue.message}`;
      return { error: { code: 'bad_request', message: `invalid params for ${method}: ${message}` } };
    }
    return { method, params: parsed.data };
  }

  /**
   * The `output` of an operation: one line per piece. The agent's stream is not paced by the
   * client (it shares one connection per VM), so a client that stops reading would make the
   * daemon hold the command's output without end; past OUTPUT_BACKLOG_BYTES the operation is
   * cancelled (which stops the command).
   */
  private outputSender(socket: Socket, opId: string, cancel: AbortController): OpContext['output'] {
    return (stream, data) => {
      if (cancel.signal.aborted) return;
      this.send(socket, { type: 'output', op_id: opId, stream, data: data.toString('base64') });
      if (socket.writableLength > OUTPUT_BACKLOG_BYTES)
        cancel.abort(
          new BangerError(
            'transport_failed',
            `the client stopped reading the command's output (over ${OUTPUT_BACKLOG_BYTES >> 20} MiB waiting); the command was stopped`,
          ),
        );
    };
  }

  /** Runs a valid request's handler with its context: cancellation, progress, tracking, one answer. */
  private async run(
    socket: Socket,
    opId: string,
    log: Logger,
    method: string,
    params: unknown,
    input: ClientInput,
  ): Promise<void> {
    const def = this.opts.methods[method]!;
    const cancel = new AbortController();
    const onClose = () => cancel.abort(new BangerError('operation_failed', 'client disconnected'));
    socket.once('close', onClose);
    const onShutdown = () => cancel.abort(new BangerError('operation_failed', 'daemon is shutting down'));
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    const vmParam = (params as { name?: unknown }).name;
    const op = def.tracked
      ? this.opts.operations.begin(method, { id: opId, vm: typeof vmParam === 'string' ? vmParam : null })
      : undefined;
    const started = performance.now();
    log.debug('rpc start', { method });
    const ctx: OpContext = {
      opId,
      signal: cancel.signal,
      log,
      progress: (stage, detail) => {
        op?.setStage(stage);
        log.info('stage', { method, stage, ...(detail !== undefined && { detail }) });
        this.send(socket, { type: 'progress', op_id: opId, stage, ...(detail !== undefined && { detail }) });
      },
      output: this.outputSender(socket, opId, cancel),
      input,
    };
    try {
      const handler = this.opts.handlers[method as keyof T]!;
      const result = await handler(params as never, ctx);
      op?.finish();
      log[def.tracked ? 'info' : 'debug']('rpc done', { method, ms: Math.round(performance.now() - started) });
      this.send(socket, { type: 'result', op_id: opId, result });
    } catch (e) {
      const wire = toWireError(e);
      op?.finish(wire.message);
      log[wire.code === 'operation_failed' ? 'error' : 'info']('rpc failed', {
        method,
        code: wire.code,
        error: wire.message,
        ms: Math.round(performance.now() - started),
      });
      this.send(socket, { type: 'error', op_id: opId, error: wire });
    } finally {
      input.resume();
      socket.off('close', onClose);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
      socket.end();
    }
  }
}

/** Maps any thrown value to a wire error; unexpected errors become operation_failed. */
export function toWireError(e: unknown): WireError {
  if (e instanceof BangerError && isRpcErrorCode(e.code)) {
    return { code: e.code, message: e.message, ...(e.hint !== undefined && { hint: e.hint }) };
  }
  if (e instanceof BangerError) {
    return { code: 'operation_failed', message: e.message, ...(e.hint !== undefined && { hint: e.hint }) };
  }
  return {
    code: 'operation_failed',
    message: e instanceof Error ? e.message : String(e),
    hint: 'see the daemon log for details (`banger daemon status` shows where it is)',
  };
}
