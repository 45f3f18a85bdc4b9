/**
 * Port forwards (`vm forward`, `vm run -p`; docs/howto/networking.md): durable rows in the
 * store, and a userspace proxy (`portfwd/`) per row while its VM runs. A listener is opened
 * when a forward is added to a running VM and when the VM becomes ready (the start's last
 * step, and the daemon's restore after reconcile); it is closed when the VM's VMM is released
 * (stop, kill, delete) and when the daemon stops. One mutex orders every change, so two
 * requests for one port never race.
 */
import { createServer } from 'node:net';
import type { Logger } from '../log/index.js';
import {
  BangerError,
  duplicateLocalPort,
  FORWARD_LISTEN_ADDRESS,
  type ForwardSpec,
  type Vm,
  type VmForward,
} from '../model/index.js';
import { forwardListenError, TcpProxy } from '../portfwd/index.js';
import type { ForwardRecord, Store } from '../store/index.js';
import { KeyedMutex } from './keyedMutex.js';

export interface ForwardServiceDeps {
  store: Store;
  log: Logger;
  /** Whether the VM runs now (recorded running and its VMM alive): its forwards then listen. */
  isRunning: (vm: Vm) => boolean;
}

/** The command that would forward `guest` from another local port, for the hint of a busy-port error. */
const retryCommand = (vm: Vm, guest: number) => (local: number) => `banger vm forward ${vm.name} ${local}:${guest}`;

/** Listens on the address and closes again: whether a stopped VM's forward could open later. */
function probeListen(port: number): Promise<void> {
  const server = createServer();
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: FORWARD_LISTEN_ADDRESS, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

export class ForwardService {
  private readonly proxies = new Map<number, TcpProxy>();
  /** Why a running VM's forward is not listening, by local port (cleared when its VM goes down). */
  private readonly failures = new Map<number, string>();
  private readonly mutex = new KeyedMutex();

  constructor(private readonly d: ForwardServiceDeps) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run('forwards', fn);
  }

  private view(vm: Vm, r: ForwardRecord): VmForward {
    const failure = this.failures.get(r.local) ?? null;
    const state = this.proxies.has(r.local) ? 'active' : failure ? 'failed' : 'inactive';
    return {
      vm: vm.name,
      address: FORWARD_LISTEN_ADDRESS,
      local: r.local,
      guest: r.guest,
      state,
      error: failure,
      createdAt: r.createdAt,
    };
  }

  /** The VM's forwards and whether each listens now. */
  list(vm: Vm): VmForward[] {
    return this.d.store.forwards.ofVm(vm.id).map((r) => this.view(vm, r));
  }

  /**
   * Adds forwards to a VM, all or none: each local port must be free of other forwards and
   * listenable (a busy one names its owner). A running VM's listeners open now; a stopped
   * VM's when it starts. Asking again for a forward the VM already has changes nothing.
   */
  add(vm: Vm, specs: readonly ForwardSpec[]): Promise<VmForward[]> {
    return this.serial(async () => {
      const dup = duplicateLocalPort(specs);
      if (dup !== null)
        throw new BangerError('bad_request', `local port ${dup} is asked for twice`, {
          hint: 'each forward needs its own local port',
        });
      const fresh = specs.filter((s) => !this.alreadyThere(vm, s));
      const running = this.d.isRunning(vm);
      const opened: TcpProxy[] = [];
      try {
        for (const s of fresh) {
          if (running) opened.push(await this.listen(vm, s));
          else
            await probeListen(s.local).catch((e: NodeJS.ErrnoException) => {
              throw forwardListenError(e, FORWARD_LISTEN_ADDRESS, s.local, retryCommand(vm, s.guest));
            });
        }
        const at = new Date().toISOString();
        this.d.store.forwards.insertAll(
          fresh.map((s) => ({ vmId: vm.id, local: s.local, guest: s.guest, createdAt: at })),
        );
      } catch (e) {
        await Promise.all(opened.map((p) => p.close()));
        throw e;
      }
      fresh.forEach((s, i) => {
        if (opened[i]) this.proxies.set(s.local, opened[i]);
      });
      this.d.log.info('forwards added', { vm: vm.name, forwards: fresh.map((s) => `${s.local}:${s.guest}`), running });
      const wanted = new Set(specs.map((s) => s.local));
      return this.list(vm).filter((f) => wanted.has(f.local));
    });
  }

  /** True when the VM already has exactly this forward; a conflict when the port is someone else's. */
  private alreadyThere(vm: Vm, s: ForwardSpec): boolean {
    const held = this.d.store.forwards.byLocalPort(s.local);
    if (!held) return false;
    if (held.vmId === vm.id && held.guest === s.guest) return true;
    const owner = held.vmId === vm.id ? vm.name : (this.d.store.vms.find(held.vmId)?.name ?? held.vmId);
    throw new BangerError('conflict', `local port ${s.local} already forwards to ${owner}:${held.guest}`, {
      hint: `remove it first (\`banger vm forward ${owner} --remove ${s.local}\`) or choose another local port`,
    });
  }

  /** Opens the proxy of one forward of a running VM; a listen failure is the user's error. */
  private async listen(vm: Vm, s: ForwardSpec): Promise<TcpProxy> {
    if (!vm.guestIp) throw new BangerError('operation_failed', `VM ${vm.name} has no address to forward to`);
    return TcpProxy.open({
      listenHost: FORWARD_LISTEN_ADDRESS,
      listenPort: s.local,
      target: { host: vm.guestIp, port: s.guest },
      log: this.d.log,
      logFields: { vm: vm.name, local: s.local, guest: s.guest },
    }).catch((e: NodeJS.ErrnoException) => {
      throw forwardListenError(e, FORWARD_LISTEN_ADDRESS, s.local, retryCommand(vm, s.guest));
    });
  }

  /** Removes forwards of the VM by local port (all or none); their listeners close. */
  remove(vm: Vm, locals: readonly number[]): Promise<VmForward[]> {
    return this.serial(async () => {
      const mine = new Map(this.d.store.forwards.ofVm(vm.id).map((r) => [r.local, r]));
      const missing = locals.find((l) => !mine.has(l));
      if (missing !== undefined)
        throw new BangerError('not_found', `VM ${vm.name} has no forward on local port ${missing}`, {
          hint: `see its forwards with \`banger vm forward ${vm.name}\``,
        });
      const gone = locals.map((l) => this.view(vm, mine.get(l)!));
      this.d.store.forwards.removeAll(vm.id, locals);
      await Promise.all(locals.map((l) => this.closeOne(l)));
      this.d.log.info('forwards removed', { vm: vm.name, locals });
      return gone.map((f) => ({ ...f, state: 'inactive' as const, error: null }));
    });
  }

  private async closeOne(local: number): Promise<void> {
    const p = this.proxies.get(local);
    this.proxies.delete(local);
    this.failures.delete(local);
    await p?.close();
  }

  /** Opens the listeners of a VM that is now ready; a port that cannot be had is logged and shown as failed. */
  vmUp(vm: Vm): Promise<void> {
    return this.serial(async () => {
      for (const r of this.d.store.forwards.ofVm(vm.id)) {
        if (this.proxies.has(r.local)) continue;
        try {
          this.proxies.set(r.local, await this.listen(vm, r));
          this.failures.delete(r.local);
        } catch (e) {
          const why = (e as Error).message;
          this.failures.set(r.local, why);
          this.d.log.warn('could not open a forward', { vm: vm.name, local: r.local, guest: r.guest, error: why });
        }
      }
    });
  }

  /** Closes the listeners of a VM that stopped (or is being deleted). */
  vmDown(vm: Pick<Vm, 'id'>): Promise<void> {
    return this.serial(async () => {
      await Promise.all(this.d.store.forwards.ofVm(vm.id).map((r) => this.closeOne(r.local)));
    });
  }

  /** After reconcile on daemon start: the forwards of every VM that still runs listen again. */
  async restore(vms: readonly Vm[]): Promise<number> {
    const running = vms.filter((v) => v.state === 'running');
    for (const vm of running) await this.vmUp(vm);
    return this.proxies.size;
  }

  /** The daemon is stopping: every listener closes (the rows stay, to be restored). */
  closeAll(): Promise<void> {
    return this.serial(async () => {
      await Promise.all([...this.proxies.keys()].map((l) => this.closeOne(l)));
      this.failures.clear();
    });
  }
}
