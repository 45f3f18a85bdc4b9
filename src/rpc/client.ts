import { connect, type Socket } from 'node:net';
import type { z } from 'zod';
import { BangerError, isRpcErrorCode } from '../model/index.js';
import type { MethodTable } from './methodDef.js';
import { onLines } from '../framing/index.js';
import {
  MAX_RESPONSE_LINE_BYTES,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ProgressEvent,
  type ServerMessage,
} from './protocol.js';

/** Sends input lines after the request (stdin, signals); `send` is false when the socket's buffer is full. */
export interface InputSender {
  send(m: ClientMessage): boolean;
  /** Calls fn once the socket's buffer has drained. */
  onDrain(fn: () => void): void;
  /** Whether the call has settled (nothing more is read). */
  readonly settled: boolean;
}

export interface CallOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** Aborting closes the connection, which cancels the operation in the daemon. */
  signal?: AbortSignal;
  /** For protocol tests only: send another version. */
  protocolVersion?: number;
  /** A guest command's output, as the daemon relays it. */
  onOutput?: (stream: 'stdout' | 'stderr', data: Buffer) => void;
  /** Called once the request is written, with a way to send input after it. */
  onOpen?: (input: InputSender) => void;
}

/** Thrown when nothing listens on the socket; the CLI reacts by starting the daemon. */
export class DaemonUnreachableError extends BangerError {
  constructor(
    readonly socketPath: string,
    readonly reason: string,
  ) {
    super('daemon_unavailable', `cannot reach bangerd at ${socketPath}: ${reason}`, {
      hint: 'start it with any banger command, or check `banger daemon status`',
    });
  }
}

/** Sends one request and resolves with the validated result; errors arrive as BangerError with op_id. */
export class RpcClient<T extends MethodTable> {
  constructor(
    private readonly socketPath: string,
    private readonly methods: T,
  ) {}

  call<M extends keyof T & string>(
    method: M,
    params: z.input<T[M]['params']>,
    opts: CallOptions = {},
  ): Promise<z.output<T[M]['result']>> {
    return this.callRaw(method, params, opts).then((raw) => {
      const def = this.methods[method];
      if (!def) return raw as never;
      const parsed = def.result.safeParse(raw);
      if (!parsed.success) {
        throw new BangerError(
          'operation_failed',
          `the daemon's answer to ${method} does not match this CLI's expectations: ${parsed.error.issues[0]?.message}`,
          {
            hint: 'the CLI and daemon come from different builds: run `banger daemon stop` and retry',
          },
        );
      }
      return parsed.data as z.output<T[M]['result']>;
    });
  }

  /** Sends any method name and params without client-side checks (maintainer use and protocol tests). */
  callRaw(method: string, params: unknown, opts: CallOptions = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      let settled = false;
      let connected = false;
      // The first outcome wins; the connection is closed after it (which cancels in the daemon).
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
        socket.destroy();
      };
      const fail = (e: BangerError) => settle(() => reject(e));
      const onAbort = () => fail(new BangerError('interrupted', `${method} cancelled`));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });

      socket.on('connect', () => {
        connected = true;
        socket.write(`${JSON.stringify({ v: opts.protocolVersion ?? PROTOCOL_VERSION, method, params })}\n`);
        opts.onOpen?.(inputSender(socket, () => settled));
      });
      socket.on('error', (e: NodeJS.ErrnoException) => fail(connectionError(this.socketPath, e, connected)));
      socket.on('close', () =>
        fail(
          new BangerError('daemon_unavailable', `bangerd closed the connection before answering ${method}`, {
            hint: 'the daemon may have crashed; see its log (`banger daemon status`)',
          }),
        ),
      );
      onLines(
        socket,
        MAX_RESPONSE_LINE_BYTES,
        (line) => {
          const answer = readAnswerLine(line, opts);
          if (answer && 'error' in answer) fail(answer.error);
          else if (answer) settle(() => resolve(answer.result));
        },
        () => fail(new BangerError('operation_failed', 'bangerd sent an oversized line')),
      );
    });
  }
}

/**
 * The error for a socket failure: before the connection is made, a missing socket or a refusal
 * is DaemonUnreachableError (the CLI then starts the daemon) and EACCES is `unauthorized`;
 * anything else, or any failure once connected, is `daemon_unavailable`.
 */
function connectionError(socketPath: string, e: NodeJS.ErrnoException, connected: boolean): BangerError {
  if (!connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED'))
    return new DaemonUnreachableError(socketPath, e.code === 'ENOENT' ? 'no socket' : 'connection refused');
  if (!connected && e.code === 'EACCES')
    return new BangerError('unauthorized', `permission denied on ${socketPath}`, {
      hint: 'the daemon belongs to another user; use that account or `sudo banger system install --owner "$USER"`',
    });
  return new BangerError('daemon_unavailable', `connection to bangerd failed: ${e.message}`, {
    hint: 'check `banger daemon status` and the daemon log',
  });
}

/**
 * Reads one line from the daemon: a progress event is passed to `onProgress` and, like an
 * unknown message type, gives null (keep reading); a result or an error (the daemon's, with
 * its op_id, or a malformed line) ends the call.
 */
function readAnswerLine(
  line: string,
  { onProgress, onOutput }: CallOptions,
): { result: unknown } | { error: BangerError } | null {
  let msg: ServerMessage;
  try {
    msg = JSON.parse(line) as ServerMessage;
  } catch {
    return { error: new BangerError('operation_failed', 'bangerd sent a malformed line') };
  }
  if (msg.type === 'progress') {
    onProgress?.({ opId: msg.op_id, stage: msg.stage, ...(msg.detail !== undefined && { detail: msg.detail }) });
    return null;
  }
  if (msg.type === 'output') {
    if (msg.stream === 'stdout' || msg.stream === 'stderr') onOutput?.(msg.stream, Buffer.from(msg.data, 'base64'));
    return null;
  }
  if (msg.type === 'result') return { result: msg.result };
  if (msg.type === 'error') {
    const code = isRpcErrorCode(msg.error.code) ? msg.error.code : 'operation_failed';
    return {
      error: new BangerError(code, msg.error.message, {
        ...(msg.error.hint !== undefined && { hint: msg.error.hint }),
        opId: msg.op_id,
      }),
    };
  }
  return null;
}

function inputSender(socket: Socket, settled: () => boolean): InputSender {
  return {
    send: (m) => !settled() && !socket.destroyed && socket.write(`${JSON.stringify(m)}\n`),
    onDrain: (fn) => socket.once('drain', fn),
    get settled() {
      return settled();
    },
  };
}
