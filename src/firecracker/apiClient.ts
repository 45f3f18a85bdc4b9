import { request } from 'node:http';
import { BangerError } from '../model/index.js';
import type { ApiCall } from './config.js';
import { pauseCall, snapshotCreateCall, snapshotLoadCall } from './snapshot.js';

/**
 * Firecracker's API over its unix socket (node:http with socketPath). A 4xx/5xx becomes a
 * BangerError quoting Firecracker's `fault_message`.
 */
export class FirecrackerApi {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs = 10_000,
  ) {}

  call(method: 'GET' | 'PUT' | 'PATCH', path: string, body?: unknown): Promise<unknown> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          timeout: this.timeoutMs,
          headers: {
            accept: 'application/json',
            ...(data !== undefined && {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(data),
            }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = null;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              parsed = text;
            }
            if ((res.statusCode ?? 500) >= 400) {
              const fault = (parsed as { fault_message?: string } | null)?.fault_message ?? text;
              reject(
                new BangerError('operation_failed', `Firecracker refused ${method} ${path}: ${fault}`, {
                  hint: "see the VM's firecracker.log",
                }),
              );
            } else resolve(parsed);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) =>
        reject(
          new BangerError('operation_failed', `cannot reach Firecracker's API at ${this.socketPath}: ${e.message}`),
        ),
      );
      req.end(data);
    });
  }

  /** Applies the configuration in order; the first refusal stops it. */
  async configure(calls: readonly ApiCall[]): Promise<void> {
    for (const c of calls) await this.call(c.method, c.path, c.body);
  }

  start(): Promise<unknown> {
    return this.call('PUT', '/actions', { action_type: 'InstanceStart' });
  }
  ctrlAltDel(): Promise<unknown> {
    return this.call('PUT', '/actions', { action_type: 'SendCtrlAltDel' });
  }
  private send(c: ApiCall): Promise<unknown> {
    return this.call(c.method, c.path, c.body);
  }
  /** PATCH /vm: stops the vCPUs (Paused) or runs them again (Resumed). Post-boot only. */
  setVmState(state: 'Paused' | 'Resumed'): Promise<unknown> {
    return this.send(pauseCall(state));
  }
  /** PUT /snapshot/create (a full snapshot), paths as Firecracker sees them. Only while Paused. */
  createSnapshot(p: Parameters<typeof snapshotCreateCall>[0]): Promise<unknown> {
    return this.send(snapshotCreateCall(p));
  }
  /** PUT /snapshot/load, paused, onto `tap`. Only on a fresh Firecracker (logger and metrics aside). */
  loadSnapshot(p: Parameters<typeof snapshotLoadCall>[0]): Promise<unknown> {
    return this.send(snapshotLoadCall(p));
  }
  /** GET /vm/config: Firecracker's own view of the VM's configuration (FullVmConfiguration). */
  vmConfig(): Promise<unknown> {
    return this.call('GET', '/vm/config');
  }
  async state(): Promise<string> {
    return ((await this.call('GET', '/')) as { state: string }).state;
  }
}
