/**
 * The CLI's way to the daemon. In user mode the first call starts bangerd in the
 * background (own session, log in the state dir) and waits for it to answer; in system
 * mode the daemon is a service, and an unreachable one is reported, not started.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { buildInfo, bundleDir } from '../buildinfo/index.js';
import { BangerError, type ErrorCode, isRpcErrorCode } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { DaemonUnreachableError, METHODS, RpcClient, type CallOptions, type Methods } from '../rpc/index.js';
import { ChildExitedError, ProcessSupervisor, sleep, type StartedProcess } from '../system/index.js';

/** How long the CLI waits for a daemon it started to answer ping. */
export const DAEMON_START_TIMEOUT_MS = 15_000;

export function daemonEntry(): string[] {
  const script = buildInfo.bundled ? join(bundleDir(), 'bangerd.js') : join(bundleDir(), '..', 'daemon', 'main.js');
  return [process.execPath, script];
}

export class DaemonConnection {
  readonly client: RpcClient<Methods>;

  constructor(
    private readonly layout: Layout,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.client = new RpcClient(layout.daemonSocket, METHODS);
  }

  /** Calls a method, starting the daemon first if nothing listens yet. */
  call<M extends keyof Methods & string>(
    method: M,
    params: z.input<Methods[M]['params']>,
    opts?: CallOptions,
  ): Promise<z.output<Methods[M]['result']>> {
    return this.withAutostart(() => this.client.call(method, params, opts));
  }

  callRaw(method: string, params: unknown, opts?: CallOptions): Promise<unknown> {
    return this.withAutostart(() => this.client.callRaw(method, params, opts));
  }

  /** Runs `fn`; when nothing listens on the socket, starts the daemon and runs it once more. */
  private async withAutostart<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof DaemonUnreachableError)) throw e;
    }
    await this.start();
    return fn();
  }

  private async answers(): Promise<boolean> {
    try {
      await this.client.call('ping', {});
      return true;
    } catch {
      return false;
    }
  }

  /**
   * When another CLI's daemon answered first, the one this CLI started is still on its way to
   * the lock, where it steps aside: wait for that, so that no daemon of ours is left starting
   * after we return (in a state directory its caller may be about to remove).
   */
  private async awaitStepAside(ours: StartedProcess, deadline: number): Promise<void> {
    const answering = await this.client.call('ping', {}, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    if (!answering || answering.pid === ours.pid) return;
    await Promise.race([ours.exited, sleep(Math.max(0, deadline - performance.now()))]);
  }

  /** Starts bangerd and waits until it answers ping, or explains why it did not. */
  async start(): Promise<void> {
    if (this.layout.mode === 'system') {
      throw new BangerError('daemon_unavailable', `bangerd is not answering on ${this.layout.daemonSocket}`, {
        hint: 'check it with `banger system status` and restart it with `sudo banger system restart`',
      });
    }
    mkdirSync(this.layout.stateDir, { recursive: true, mode: 0o700 });
    const logFile = this.layout.daemonLog;
    let offset = 0;
    try {
      offset = statSync(logFile).size;
    } catch {
      /* new log */
    }
    const supervisor = new ProcessSupervisor();
    const proc = supervisor.start({ argv: daemonEntry(), logFile, env: this.env });
    const deadline = performance.now() + DAEMON_START_TIMEOUT_MS;
    try {
      await supervisor.waitReady(proc, logFile, () => this.answers(), {
        timeoutMs: DAEMON_START_TIMEOUT_MS,
        what: 'bangerd',
      });
      await this.awaitStepAside(proc, deadline);
    } catch (e) {
      if (e instanceof ChildExitedError && e.exitCode === 0) {
        // Another CLI started a daemon at the same moment; ours saw its lock and stepped aside.
        while (performance.now() < deadline) {
          if (await this.answers()) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      if (e instanceof ChildExitedError) throw startupFailure(logFile, offset, e);
      throw e;
    }
  }
}

/** Turns the daemon's own last error line (JSON) into the CLI's error, keeping its code and hint. */
function startupFailure(logFile: string, offset: number, e: ChildExitedError): BangerError {
  let lines: string[] = [];
  try {
    lines = readFileSync(logFile).subarray(offset).toString('utf8').split('\n');
  } catch {
    /* no log */
  }
  for (const line of lines.reverse()) {
    try {
      const j = JSON.parse(line) as { level?: string; error?: string; code?: string; hint?: string };
      if (j.level === 'error' && j.error) {
        const code: ErrorCode =
          j.code && (isRpcErrorCode(j.code) || ['config_invalid', 'usage', 'daemon_unavailable'].includes(j.code))
            ? (j.code as ErrorCode)
            : 'daemon_unavailable';
        return new BangerError(
          code,
          `bangerd failed to start: ${j.error}`,
          j.hint === undefined ? {} : { hint: j.hint },
        );
      }
    } catch {
      /* not a JSON line */
    }
  }
  return new BangerError('daemon_unavailable', `bangerd failed to start: ${e.message}`, { hint: `see ${logFile}` });
}
