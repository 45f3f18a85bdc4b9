import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sharedAgents, type AgentHub } from '../../agent/index.js';
import { hostAlias, renderBangerSshConfig, type SshTarget } from '../../guest/index.js';
import { BangerError, type Vm } from '../../model/index.js';
import { generateVmName, type RandomIndex } from '../../namegen/index.js';
import { vmFiles, type VmFiles } from '../../paths/index.js';
import type { Store } from '../../store/index.js';
import { writeFileAtomic } from '../../system/index.js';
import type { VmmDriver } from '../../vmm/index.js';
import { KeyedMutex } from '../keyedMutex.js';
import { PinnedNetworkCheck } from '../pinnedNetwork.js';
import { TemplateService } from '../warm/templateService.js';
import type { VmHandles, VmServiceDeps } from './types.js';

export const notRunning = (vm: Vm) =>
  new BangerError('not_running', `VM ${vm.name} is not running`, {
    hint: `start it with \`banger vm start ${vm.name}\``,
  });

/**
 * What every VM operation shares: the dependencies, the per-VM locks, and the lookups
 * (record, files, handles, back-end, liveness, ssh) that the operation modules build on.
 */
export class VmEnv {
  readonly locks = new KeyedMutex();
  /** One shared agent connection per VM (a virtio-serial port has one client). */
  readonly agents: AgentHub = sharedAgents;
  readonly pinnedNetwork: PinnedNetworkCheck;
  /** Warm templates: found for creates, built in the background (docs/howto/snapshots.md). */
  readonly templates: TemplateService;

  constructor(readonly d: VmServiceDeps) {
    this.pinnedNetwork = new PinnedNetworkCheck(d.privileged, d.config);
    this.templates = new TemplateService(this);
  }

  get store(): Store {
    return this.d.store;
  }

  list(): Vm[] {
    return this.store.vms.list();
  }

  show(ref: string): Vm {
    const vm = this.store.vms.find(ref);
    if (!vm)
      throw new BangerError('not_found', `no VM named "${ref}"`, {
        hint: 'see `banger vm list` for the VMs that exist',
      });
    return vm;
  }

  /** Records a use of the VM: the one place touched_at moves for ssh, exec, workspace, start and connections. */
  touch(ref: string): void {
    this.store.vms.touch(this.show(ref).id);
  }

  /** Runs `fn` under the VM's lock, with its record read again once the lock is held. */
  withVm<T>(ref: string, fn: (vm: Vm) => Promise<T>): Promise<T> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, () => fn(this.show(vm0.id)));
  }

  /** A generated adjective-noun name that no VM in the store has. */
  freshName(random?: RandomIndex): string {
    return generateVmName((n) => this.store.vms.nameExists(n), random);
  }

  /** The back-end the VM's record names. */
  driverOf(vm: Pick<Vm, 'vmm'>): VmmDriver {
    return this.d.drivers[vm.vmm];
  }

  files(vm: Pick<Vm, 'id'>): VmFiles {
    return vmFiles(this.d.layout, vm.id);
  }

  handles(vm: Vm): VmHandles | null {
    try {
      return JSON.parse(readFileSync(this.files(vm).handles, 'utf8')) as VmHandles;
    } catch {
      return this.store.vms.handles(vm.id) as VmHandles | null;
    }
  }

  /** The VM's handles if its VMM is alive and really its own (pid and command line), else null. */
  liveHandles(vm: Vm): VmHandles | null {
    const h = this.handles(vm);
    return h && this.driverOf(vm).owns(h.pid, this.files(vm)) ? h : null;
  }

  isAlive(vm: Vm): boolean {
    return this.liveHandles(vm) !== null;
  }

  /** Throws `not_running` unless the VM is recorded running and its VMM is alive and its own; `conflict` when it is paused. */
  requireRunning(vm: Vm): void {
    if (vm.state !== 'running' || !this.isAlive(vm)) throw notRunning(vm);
    if (vm.suspended === 'paused')
      throw new BangerError('conflict', `VM ${vm.name} is paused`, {
        hint: `resume it with \`banger vm resume ${vm.name}\``,
      });
  }

  sshTarget(vm: Vm): SshTarget {
    if (!vm.guestIp) throw new BangerError('operation_failed', `VM ${vm.name} has no address`);
    return {
      ip: vm.guestIp,
      alias: hostAlias(vm.name),
      keyPath: this.d.config.ssh_key_path,
      knownHosts: this.d.layout.knownHosts,
    };
  }

  /** Rewrites banger's ssh config (atomically) so `ssh NAME.vm` reaches every VM. */
  refreshSshConfig(): void {
    mkdirSync(dirname(this.d.layout.sshConfigFile), { recursive: true, mode: 0o700 }); // it holds the private key too
    const text = renderBangerSshConfig(
      this.list().map((v) => ({ name: v.name, ip: v.guestIp })),
      this.d.config.ssh_key_path,
      this.d.layout.knownHosts,
    );
    writeFileAtomic(this.d.layout.sshConfigFile, text);
  }
}
