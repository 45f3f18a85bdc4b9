import { StringDecoder } from 'node:string_decoder';
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { BangerError } from '../model/index.js';

/**
 * The one wrapper every external command goes through (docs/architecture.md): argv arrays
 * only (never a shell string), a timeout, cancellation, optional stdin, and a non-zero
 * exit that throws CommandError carrying the command, exit code and stderr tail.
 * Unit tests substitute test/fakes' FakeHostRunner, which asserts argv.
 */
export interface RunOptions {
  /** Milliseconds; default 60 s. The child gets SIGTERM, then SIGKILL 2 s later. */
  timeoutMs?: number;
  signal?: AbortSignal;
  stdin?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Cap on captured stdout bytes (default 16 MiB); beyond it the command fails. */
  maxOutputBytes?: number;
  /** Each complete line of stderr as it arrives (a child's progress), besides the captured stderr. */
  onStderrLine?: (line: string) => void;
  /** Also return stdout as bytes (binary output, e.g. a decompressed kernel). */
  raw?: boolean;
}

export interface RunResult {
  argv: readonly string[];
  exitCode: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as bytes, with RunOptions.raw. */
  stdoutBuffer?: Buffer;
  stderr: string;
  durationMs: number;
}

export interface PipeResult {
  producer: RunResult;
  consumer: RunResult;
  /** Bytes that went from the producer's stdout into the consumer's stdin. */
  bytes: number;
}

export interface HostRunner {
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /**
   * Runs `producer | consumer` (no shell): the producer's stdout streams into the
   * consumer's stdin, counted. Fails if either fails; the consumer's stdout is captured.
   */
  pipe(
    producer: readonly string[],
    consumer: readonly string[],
    opts?: Omit<RunOptions, 'stdin'> & { producerCwd?: string },
  ): Promise<PipeResult>;
}

const STDERR_TAIL_BYTES = 2000;

function tail(s: string): string {
  const t = s.trim();
  return t.length > STDERR_TAIL_BYTES ? `…${t.slice(-STDERR_TAIL_BYTES)}` : t;
}

export class CommandError extends BangerError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderrTail: string,
    reason: string,
  ) {
    super('operation_failed', `command failed: ${argv.join(' ')}: ${reason}${stderrTail ? `: ${stderrTail}` : ''}`, {
      hint:
        exitCode === 127 || reason.startsWith('not found')
          ? `install ${argv[0]} (see \`banger doctor\`)`
          : 'see the command output above',
    });
  }
}

export class ExecHostRunner implements HostRunner {
  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error('HostRunner.run needs a non-empty argv');
    const started = performance.now();
    const maxOut = opts.maxOutputBytes ?? 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new CommandError(argv, null, '', 'cancelled before start'));
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      let killTimer: NodeJS.Timeout | undefined;
      const guard = deadline(opts, () => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
        killTimer.unref();
      });
      const stdout = capture(child.stdout!, maxOut, () => guard.stop(`output exceeded ${maxOut} bytes`));
      const stderr = capture(child.stderr!);
      if (opts.onStderrLine) forEachLine(child.stderr!, opts.onStderrLine);
      if (opts.stdin !== undefined) {
        child.stdin!.on('error', () => {
          /* the child may exit without reading */
        });
        child.stdin!.end(opts.stdin);
      }
      child.on('error', (e: NodeJS.ErrnoException) => {
        guard.dispose();
        reject(
          new CommandError(argv, null, '', spawnFailure(e, `not found (${argv[0]} is not installed or not on PATH)`)),
        );
      });
      child.on('close', (code, signal) => {
        guard.dispose();
        if (killTimer) clearTimeout(killTimer);
        const stdoutBytes = stdout();
        const result: RunResult = {
          ...resultOf(argv, { code: code ?? -1, signal }, opts.raw ? '' : stdoutBytes.toString('utf8'), stderr()),
          durationMs: Math.round(performance.now() - started),
          ...(opts.raw && { stdoutBuffer: stdoutBytes }),
        };
        if (guard.failure) return reject(new CommandError(argv, code, tail(result.stderr), guard.failure));
        if (code !== 0 && !opts.allowFailure) {
          return reject(
            new CommandError(argv, code, tail(result.stderr), signal ? `killed by ${signal}` : `exit code ${code}`),
          );
        }
        resolve(result);
      });
    });
  }

  pipe(
    producer: readonly string[],
    consumer: readonly string[],
    opts: Omit<RunOptions, 'stdin'> & { producerCwd?: string } = {},
  ): Promise<PipeResult> {
    if (producer.length === 0 || consumer.length === 0) throw new Error('HostRunner.pipe needs two non-empty argvs');
    return pipeProcesses(producer, consumer, opts);
  }
}

/** Calls `fn` with each complete line of `stream` (UTF-8), the last one at its end. */
function forEachLine(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let pending = '';
  const utf8 = new StringDecoder('utf8');
  stream.on('data', (d: Buffer) => {
    const lines = (pending + utf8.write(d)).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) fn(l);
  });
  stream.on('end', () => {
    if (pending) fn(pending);
  });
}

/** A command's deadline and cancellation, shared by run and pipe. */
interface Deadline {
  /** Records `why` as the failure and kills, once: later calls (and the timer, the signal) do nothing. */
  stop(why: string): void;
  /** Why the command was stopped, or undefined if it was not. */
  readonly failure: string | undefined;
  /** Clears the timer and the abort listener; call it once the processes are gone. */
  dispose(): void;
}

/**
 * Arms opts.timeoutMs (default 60 s) and opts.signal: whichever comes first calls `kill`
 * through Deadline.stop. A signal already aborted does not fire here (callers check it first).
 */
function deadline(opts: Pick<RunOptions, 'timeoutMs' | 'signal'>, kill: () => void): Deadline {
  let failure: string | undefined;
  const stop = (why: string) => {
    if (failure) return;
    failure = why;
    kill();
  };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const timer = setTimeout(() => stop(`timed out after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    stop,
    get failure() {
      return failure;
    },
    dispose() {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Collects a stream's bytes; the returned function concatenates what came so far. Past
 * `maxBytes` in total, chunks are dropped and `onOverflow` is called (on each such chunk).
 */
function capture(stream: NodeJS.ReadableStream, maxBytes = Infinity, onOverflow?: () => void): () => Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  stream.on('data', (d: Buffer) => {
    total += d.length;
    if (total > maxBytes) onOverflow?.();
    else chunks.push(d);
  });
  return () => Buffer.concat(chunks);
}

/** Why a child could not be spawned: `notFound` if its program does not exist (ENOENT), else the error. */
function spawnFailure(e: NodeJS.ErrnoException, notFound: string): string {
  return e.code === 'ENOENT' ? notFound : e.message;
}

interface Exit {
  code: number;
  signal: NodeJS.Signals | null;
}

/** A RunResult but for durationMs, from the exit and the captured output. */
function resultOf(argv: readonly string[], exit: Exit, stdout: string, stderr: Buffer): Omit<RunResult, 'durationMs'> {
  return { argv, exitCode: exit.code, signal: exit.signal, stdout, stderr: stderr.toString('utf8') };
}

/** Resolves when `child` closes; a spawn error is passed to `onError` and resolves as code -1. */
function exitOf(child: ChildProcess, onError: (e: NodeJS.ErrnoException) => void): Promise<Exit> {
  return new Promise((res) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      onError(e);
      res({ code: -1, signal: null });
    });
    child.on('close', (code, signal) => res({ code: code ?? -1, signal }));
  });
}

/** ExecHostRunner.pipe: both processes spawned directly, bytes counted on the way through. */
function pipeProcesses(
  producer: readonly string[],
  consumer: readonly string[],
  opts: Omit<RunOptions, 'stdin'> & { producerCwd?: string },
): Promise<PipeResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const env = opts.env ?? process.env;
    const p = spawn(producer[0]!, producer.slice(1), {
      cwd: opts.producerCwd ?? opts.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const c = spawn(consumer[0]!, consumer.slice(1), { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = 0;
    const guard = deadline(opts, () => {
      p.kill('SIGKILL');
      c.kill('SIGKILL');
    });
    p.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    p.stdout!.pipe(c.stdin!);
    c.stdin!.on('error', () => {
      /* the consumer exited early; its exit code tells */
    });
    const [pErr, cOut, cErr] = [capture(p.stderr!), capture(c.stdout!), capture(c.stderr!)];
    const exits = [p, c].map((child, i) =>
      exitOf(child, (e) => guard.stop(`${(i ? consumer : producer)[0]}: ${spawnFailure(e, 'not found')}`)),
    );
    void Promise.all(exits).then(([pe, ce]) => {
      guard.dispose();
      const durationMs = Math.round(performance.now() - started);
      const producerResult: RunResult = { ...resultOf(producer, pe!, '', pErr()), durationMs };
      const consumerResult: RunResult = { ...resultOf(consumer, ce!, cOut().toString('utf8'), cErr()), durationMs };
      const error = pipeFailure(producerResult, consumerResult, guard.failure, opts.allowFailure);
      if (error) return reject(error);
      resolve({ producer: producerResult, consumer: consumerResult, bytes });
    });
  });
}

/**
 * How a finished pipe failed, or null: a stop (timeout, cancellation, spawn error) blames the
 * whole pipeline with both stderrs; otherwise, unless allowFailure, the first side to exit non-zero.
 */
function pipeFailure(
  producer: RunResult,
  consumer: RunResult,
  failure: string | undefined,
  allowFailure: boolean | undefined,
): CommandError | null {
  if (failure)
    return new CommandError(
      [...producer.argv, '|', ...consumer.argv],
      null,
      tail(producer.stderr + consumer.stderr),
      failure,
    );
  if (allowFailure) return null;
  for (const side of [producer, consumer]) {
    if (side.exitCode !== 0)
      return new CommandError(side.argv, side.exitCode, tail(side.stderr), `exit code ${side.exitCode}`);
  }
  return null;
}

/** Finds an executable on PATH (no shell involved). */
export function which(name: string, pathEnv: string = process.env.PATH ?? ''): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of pathEnv.split(':').concat(['/usr/sbin', '/sbin'])) {
    if (!dir) continue;
    const p = `${dir}/${name}`;
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
