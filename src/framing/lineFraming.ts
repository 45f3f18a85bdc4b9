/**
 * Framing for every newline-delimited protocol banger speaks (the daemon's RPC, the root
 * helper, the guest agent and its vsock handshake, QMP): bytes are split on '\n' and each
 * line is decoded as UTF-8 only once it is whole, so a character split across chunks
 * survives. Every reader has a cap, so a peer that never sends '\n' cannot make us buffer
 * without bound. A line's length is counted in bytes, without its '\n'.
 */
import type { Socket } from 'node:net';

/** A line (complete, or the part received so far) is longer than the cap. */
export class LineTooLongError extends Error {
  readonly reason = 'too-long' as const;
  constructor(readonly maxBytes: number) {
    super(`line longer than ${maxBytes} bytes`);
  }
}

/** The stream ended (or closed) before a '\n'. */
export class LineEndedError extends Error {
  readonly reason = 'ended' as const;
  constructor() {
    super('the connection closed before a full line');
  }
}

export type LineReadError = LineTooLongError | LineEndedError;

/**
 * A splitter for a stream of chunks: `push` each chunk; `onLine` gets every complete line in
 * order. Once a line goes over `maxBytes`, `onOverflow` is called once and everything after
 * is ignored. Bytes after the last '\n' wait for the next chunk (they are never delivered
 * when the stream ends without one).
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (e: LineTooLongError) => void,
  ) {}

  /** Bytes received after the last '\n'. */
  get pendingBytes(): number {
    return this.size;
  }

  push(chunk: Buffer | string): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1 && !this.overflowed; nl = data.indexOf(10, start)) {
      if (this.size + (nl - start) > this.maxBytes) {
        this.overflow();
        return;
      }
      this.chunks.push(data.subarray(start, nl));
      const line = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.size = 0;
      start = nl + 1;
      this.onLine(line);
    }
    if (this.overflowed || start >= data.length) return;
    this.chunks.push(data.subarray(start));
    this.size += data.length - start;
    if (this.size > this.maxBytes) this.overflow();
  }

  private overflow(): void {
    if (this.overflowed) return;
    this.overflowed = true;
    this.chunks = [];
    this.size = 0;
    this.onOverflow(new LineTooLongError(this.maxBytes));
  }
}

/** Feeds a socket's (or any stream's) data into a `LineSplitter`. */
export function onLines(
  socket: Pick<Socket, 'on'>,
  maxBytes: number,
  onLine: (line: string) => void,
  onOverflow: (e: LineTooLongError) => void,
): LineSplitter {
  const splitter = new LineSplitter(maxBytes, onLine, onOverflow);
  socket.on('data', (d: Buffer | string) => splitter.push(d));
  return splitter;
}

/**
 * The first line on a socket, at most `maxBytes`, and the bytes that came after it in the same
 * chunk (`rest`, which belong to whoever reads next). Rejects with `LineTooLongError`, or with
 * `LineEndedError` when the socket ends or closes first. It adds no 'error' listener: that
 * stays the caller's.
 */
export function readLine(
  socket: Pick<Socket, 'on' | 'off'>,
  maxBytes: number,
): Promise<{ line: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (d: Buffer | string) => {
      const data = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
      const nl = data.indexOf(10);
      if (nl >= 0 && size + nl <= maxBytes) {
        chunks.push(data.subarray(0, nl));
        const line = Buffer.concat(chunks).toString('utf8');
        done();
        resolve({ line, rest: data.subarray(nl + 1) });
        return;
      }
      if (nl >= 0 || size + data.length > maxBytes) {
        done();
        reject(new LineTooLongError(maxBytes));
        return;
      }
      chunks.push(data);
      size += data.length;
    };
    const onEnd = () => {
      done();
      reject(new LineEndedError());
    };
    const done = () => {
      chunks = [];
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
}
