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
}

export interface RunResult {
  argv: readonly string[];
  exitCode: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface HostRunner {
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

const STDERR_TAIL_BYTES = 2000;

function tail(s: string): string {
  const t = s.trim();
  return t.length > STDERR_TAIL_BYTES ? `…${t.slice(-STDERR_TAIL_BYTES)}` : t;
}

export class CommandError extends BangerError {
  constructor(readonly argv: readonly string[], readonly exitCode: number | null, readonly stderrTail: string, reason: string) {
    super('operation_failed', `command failed: ${argv.join(' ')}: ${reason}${stderrTail ? `: ${stderrTail}` : ''}`, {
      hint: exitCode === 127 || reason.startsWith('not found') ? `install ${argv[0]} (see \`banger doctor\`)` : 'see the command output above',
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
      child.stderr!.on('data', (d: Buffer) => { err.push(d); });
      if (opts.stdin !== undefined) {
        child.stdin!.on('error', () => { /* the child may exit without reading */ });
        child.stdin!.end(opts.stdin);
      }
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        reject(new CommandError(argv, null, '', e.code === 'ENOENT' ? `not found (${argv[0]} is not installed or not on PATH)` : e.message));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        opts.signal?.removeEventListener('abort', onAbort);
        const result: RunResult = {
          argv, exitCode: code ?? -1, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
          durationMs: Math.round(performance.now() - started),
        };
        if (failure) return reject(new CommandError(argv, code, tail(result.stderr), failure));
        if (code !== 0 && !opts.allowFailure) {
          return reject(new CommandError(argv, code, tail(result.stderr), signal ? `killed by ${signal}` : `exit code ${code}`));
        }
        resolve(result);
      });
    });
  }
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
