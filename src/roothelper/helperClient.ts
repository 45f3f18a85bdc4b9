import { connect } from 'node:net';
import { BangerError, type ErrorCode } from '../model/index.js';
import { HELPER_PROTOCOL_VERSION, type HelperResponse } from './helperProtocol.js';
import { readLine } from './helperServer.js';
import type { JailParams, PrepareJailParams } from './jailOps.js';
import { PRIV_OPERATIONS, type AllowedSignal, type PrivContext, type PrivilegedOps, type TapInfo } from './privilegedOps.js';

/**
 * PrivilegedOps carried out by the root helper: each call is one connection to its socket,
 * one request with the daemon operation's op_id, one answer. Errors come back as the
 * helper's BangerError (code, message, hint).
 */
export class RemotePrivilegedOps implements PrivilegedOps {
  constructor(private readonly socketPath: string, private readonly timeoutMs = 120_000) {}

  private call<T>(method: keyof PrivilegedOps, params: object, ctx: PrivContext): Promise<T> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socketPath);
      const timer = setTimeout(() => { s.destroy(); reject(new BangerError('operation_failed', `the root helper did not answer ${PRIV_OPERATIONS[method]} within ${this.timeoutMs / 1000} s`)); }, this.timeoutMs);
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new BangerError('unauthorized', `cannot reach the root helper at ${this.socketPath}: ${e.code ?? e.message}`, { hint: 'is it running? `banger system status`; restart it with `sudo banger system restart`' }));
      });
      s.once('connect', () => {
        s.write(`${JSON.stringify({ v: HELPER_PROTOCOL_VERSION, op_id: ctx.opId, method: PRIV_OPERATIONS[method], params })}\n`);
        readLine(s, 16 * 1024 * 1024).then((line) => {
          clearTimeout(timer);
          s.end();
          const r = JSON.parse(line) as HelperResponse;
          if (r.ok) resolve(r.result as T);
          else reject(new BangerError(r.error.code as ErrorCode, r.error.message, r.error.hint ? { hint: r.error.hint } : {}));
        }, (e: Error) => {
          clearTimeout(timer);
          reject(new BangerError('operation_failed', `the root helper closed the connection: ${e.message}`));
        });
      });
    });
  }

  ensureBridge(p: { name: string; address: string; prefix: number }, ctx: PrivContext): Promise<void> { return this.call('ensureBridge', p, ctx); }
  createTap(p: { name: string; bridge: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<void> { return this.call('createTap', p, ctx); }
  deleteTap(p: { name: string }, ctx: PrivContext): Promise<void> { return this.call('deleteTap', p, ctx); }
  listTaps(ctx: PrivContext): Promise<TapInfo[]> { return this.call('listTaps', {}, ctx); }
  setIpForward(p: { enabled: boolean }, ctx: PrivContext): Promise<{ previous: boolean }> { return this.call('setIpForward', p, ctx); }
  applyNat(p: { vmId: string; guestIp: string; bridge: string; uplink: string }, ctx: PrivContext): Promise<void> { return this.call('applyNat', p, ctx); }
  removeNat(p: { vmId: string }, ctx: PrivContext): Promise<void> { return this.call('removeNat', p, ctx); }
  writeFileToImage(p: { image: string; path: string; content: string; mode: number; uid: number; gid: number }, ctx: PrivContext): Promise<void> { return this.call('writeFileToImage', p, ctx); }
  signalProcess(p: { pid: number; signal: AllowedSignal }, ctx: PrivContext): Promise<void> { return this.call('signalProcess', p, ctx); }
  routeDnsDomain(p: { link: string; server: string; domain: string }, ctx: PrivContext): Promise<void> { return this.call('routeDnsDomain', p, ctx); }
  buildImage(p: { name: string; dest: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<{ rootfsPath: string; workSeedPath: string; sizeBytes: number }> { return this.call('buildImage', p, ctx); }
  prepareJail(p: PrepareJailParams, ctx: PrivContext): Promise<{ chrootRoot: string }> { return this.call('prepareJail', p, ctx); }
  startJailer(p: JailParams, ctx: PrivContext): Promise<{ pid: number }> { return this.call('startJailer', p, ctx); }
  removeJail(p: { vmId: string; chrootBase: string }, ctx: PrivContext): Promise<void> { return this.call('removeJail', p, ctx); }
  attachRootSnapshot(p: { vmId: string; image: string; cowFile: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<{ device: string }> { return this.call('attachRootSnapshot', p, ctx); }
  detachRootSnapshot(p: { vmId: string; cowFile: string }, ctx: PrivContext): Promise<void> { return this.call('detachRootSnapshot', p, ctx); }
}
