import { connect } from 'node:net';
import { BangerError, type ErrorCode } from '../model/index.js';
import { opsFrom, PRIV_METHODS, type PrivilegedOps, type PrivMethod } from '../privops/index.js';
import { HELPER_PROTOCOL_VERSION, type HelperResponse } from './helperProtocol.js';
import { readLine } from './helperServer.js';

/**
 * PrivilegedOps carried out by the root helper: each call is one connection to its socket,
 * one request with the daemon operation's op_id, one answer, checked against the declared
 * result. Errors come back as the helper's BangerError (code, message, hint). The methods
 * are derived from privops/surface.ts, so every operation, `listTaps` included, carries
 * its op_id over the wire.
 */
export class RemotePrivilegedOps {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs = 120_000,
  ) {
    Object.assign(
      this,
      opsFrom((method, params, ctx) => this.call(method, params, ctx.opId)),
    );
  }

  private call(method: PrivMethod, params: unknown, opId: string): Promise<unknown> {
    const wire = PRIV_METHODS[method].wire;
    return new Promise((resolve, reject) => {
      const s = connect(this.socketPath);
      const timer = setTimeout(() => {
        s.destroy();
        reject(
          new BangerError(
            'operation_failed',
            `the root helper did not answer ${wire} within ${this.timeoutMs / 1000} s`,
          ),
        );
      }, this.timeoutMs);
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new BangerError(
            'unauthorized',
            `cannot reach the root helper at ${this.socketPath}: ${e.code ?? e.message}`,
            { hint: 'is it running? `banger system status`; restart it with `sudo banger system restart`' },
          ),
        );
      });
      s.once('connect', () => {
        s.write(`${JSON.stringify({ v: HELPER_PROTOCOL_VERSION, op_id: opId, method: wire, params })}\n`);
        readLine(s, 16 * 1024 * 1024).then(
          (line) => {
            clearTimeout(timer);
            s.end();
            const r = JSON.parse(line) as HelperResponse;
            if (!r.ok) {
              reject(
                new BangerError(r.error.code as ErrorCode, r.error.message, r.error.hint ? { hint: r.error.hint } : {}),
              );
              return;
            }
            const checked = PRIV_METHODS[method].result.safeParse(r.result);
            if (checked.success) resolve(checked.data);
            else
              reject(
                new BangerError('operation_failed', `the root helper answered ${wire} with an unexpected result`, {
                  hint: 'are the helper and the daemon the same banger version? `sudo banger system restart`',
                }),
              );
          },
          (e: Error) => {
            clearTimeout(timer);
            reject(new BangerError('operation_failed', `the root helper closed the connection: ${e.message}`));
          },
        );
      });
    });
  }
}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging: the methods are assigned in the constructor
export interface RemotePrivilegedOps extends PrivilegedOps {}
