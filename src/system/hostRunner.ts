import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { BangerError } from '../model/index.js';

/**
 * The one wrapper every external command goes through (ARCHITECTURE 4): argv arrays
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
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let failure: string | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: string) => {
        if (failure) return;
        failure = why;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
        killTimer.unref();
      };
      const timer = setTimeout(() => stop(`timed out after ${opts.timeoutMs ?? 60_000} ms`), opts.timeoutMs ?? 60_000);
      const onAbort = () => stop('cancelled');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout!.on('data', (d: Buffer) => {
        outBytes += d.length;
        if (outBytes > maxOut) stop(`output exceeded ${maxOut} bytes`);
        else out.push(d);
      });
      child.stderr!.on('data', (d: Buffer) => {
        err.push(d);
      });
      if (opts.stdin !== undefined) {
        child.stdin!.on('error', () => {
          /* the child may exit without reading */
        });
        child.stdin!.end(opts.stdin);
      }
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        reject(
          new CommandError(
            argv,
            null,
            '',
            e.code === 'ENOENT' ? `not found (${argv[0]} is not installed or not on PATH)` : e.message,
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        opts.signal?.removeEventListener('abort', onAbort);
        const stdoutBytes = Buffer.concat(out);
        const result: RunResult = {
          argv,
          exitCode: code ?? -1,
          signal,
          stdout: opts.raw ? '' : stdoutBytes.toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          durationMs: Math.round(performance.now() - started),
          ...(opts.raw && { stdoutBuffer: stdoutBytes }),
        };
        if (failure) return reject(new CommandError(argv, code, tail(result.stderr), failure));
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

/** ExecHostRunner.pipe: both processes spawned directly, bytes counted on the way through. */
function pipeProcesses(
  producer: readonly string[],
  consumer: readonly string[],
  opts: Omit<RunOptions, 'stdin'> & { producerCwd?: string },
): Promise<PipeResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(producer[0]!, producer.slice(1), {
      cwd: opts.producerCwd ?? opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const c = spawn(consumer[0]!, consumer.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let bytes = 0;
    const pErr: Buffer[] = [];
    const cOut: Buffer[] = [];
    const cErr: Buffer[] = [];
    let failure: string | undefined;
    const stop = (why: string) => {
      if (failure) return;
      failure = why;
      p.kill('SIGKILL');
      c.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`timed out after ${opts.timeoutMs ?? 60_000} ms`), opts.timeoutMs ?? 60_000);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    p.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    p.stdout!.pipe(c.stdin!);
    c.stdin!.on('error', () => {
      /* the consumer exited early; its exit code tells */
    });
    p.stderr!.on('data', (d: Buffer) => pErr.push(d));
    c.stdout!.on('data', (d: Buffer) => cOut.push(d));
    c.stderr!.on('data', (d: Buffer) => cErr.push(d));
    const exits = [p, c].map(
      (child, i) =>
        new Promise<{ code: number; signal: NodeJS.Signals | null }>((res) => {
          child.on('error', (e: NodeJS.ErrnoException) => {
            stop(`${(i ? consumer : producer)[0]}: ${e.code === 'ENOENT' ? 'not found' : e.message}`);
            res({ code: -1, signal: null });
          });
          child.on('close', (code, signal) => res({ code: code ?? -1, signal }));
        }),
    );
    void Promise.all(exits).then(([pe, ce]) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const durationMs = Math.round(performance.now() - started);
      const producerResult: RunResult = {
        argv: producer,
        exitCode: pe!.code,
        signal: pe!.signal,
        stdout: '',
        stderr: Buffer.concat(pErr).toString('utf8'),
        durationMs,
      };
      const consumerResult: RunResult = {
        argv: consumer,
        exitCode: ce!.code,
        signal: ce!.signal,
        stdout: Buffer.concat(cOut).toString('utf8'),
        stderr: Buffer.concat(cErr).toString('utf8'),
        durationMs,
      };
      if (failure)
        return reject(
          new CommandError(
            [...producer, '|', ...consumer],
            null,
            tail(producerResult.stderr + consumerResult.stderr),
            failure,
          ),
        );
      if (!opts.allowFailure) {
        if (pe!.code !== 0)
          return reject(new CommandError(producer, pe!.code, tail(producerResult.stderr), `exit code ${pe!.code}`));
        if (ce!.code !== 0)
          return reject(new CommandError(consumer, ce!.code, tail(consumerResult.stderr), `exit code ${ce!.code}`));
      }
      resolve({ producer: producerResult, consumer: consumerResult, bytes });
    });
  });
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
