import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { BangerError, formatSize, vmSpecProblem, type Vm, type VmSpec } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { growWorkDisk } from '../../vmdisk/index.js';
import type { VmEnv } from './env.js';

export interface VmSettings {
  vcpu?: number | undefined;
  memoryMib?: number | undefined;
  diskSizeBytes?: number | undefined;
  nat?: boolean | undefined;
}

/**
 * `vm set` (docs/howto/vms.md). Resources change only while the VM is stopped: vcpu and memory
 * freely within limits, the work disk only upwards (grown in place with resize2fs).
 * NAT changes at any time; on a running VM the rules follow at once.
 */
export function setVm(env: VmEnv, ref: string, p: VmSettings, ctx: OpCtx): Promise<Vm> {
  return env.withVm(ref, async (vm) => {
    const resources = p.vcpu !== undefined || p.memoryMib !== undefined || p.diskSizeBytes !== undefined;
    if (!resources && p.nat === undefined) {
      throw new BangerError('bad_request', 'nothing to change', {
        hint: 'give --vcpu, --memory, --disk-size, --nat or --no-nat',
      });
    }
    const alive = env.isAlive(vm);
    if (resources) await setResources(env, vm, p, alive, ctx);
    if (p.nat !== undefined && p.nat !== vm.nat) await setNat(env, vm, p.nat, alive, ctx);
    return env.show(vm.id);
  });
}

async function setResources(env: VmEnv, vm: Vm, p: VmSettings, alive: boolean, ctx: OpCtx): Promise<void> {
  if (alive)
    throw new BangerError('conflict', `VM ${vm.name} is running; resources change only while it is stopped`, {
      hint: `stop it first: \`banger vm stop ${vm.name}\``,
    });
  // The next start restores a saved machine of the old shape onto these very disks.
  if (vm.suspended === 'saved' || existsSync(env.files(vm).pendingIdentity))
    throw new BangerError(
      'conflict',
      `VM ${vm.name}'s next start resumes a saved memory state, which keeps its vcpu, memory and disk`,
      { hint: `start it, stop it without --save, then change its resources: \`banger vm start ${vm.name}\`` },
    );
  const spec: VmSpec = {
    ...vm.spec,
    ...(p.vcpu !== undefined && { vcpu: p.vcpu }),
    ...(p.memoryMib !== undefined && { memoryMib: p.memoryMib }),
    ...(p.diskSizeBytes !== undefined && { diskSizeBytes: p.diskSizeBytes }),
  };
  const problem = vmSpecProblem(spec, { memoryBytes: totalmem() });
  if (problem) throw new BangerError('bad_request', problem, { hint: 'the limits are in docs/howto/vms.md' });
  if (spec.diskSizeBytes < vm.spec.diskSizeBytes) {
    throw new BangerError(
      'bad_request',
      `the work disk can only grow (it is ${formatSize(vm.spec.diskSizeBytes)}, asked for ${formatSize(spec.diskSizeBytes)})`,
      { hint: 'shrinking would lose data in /root; create a new VM instead' },
    );
  }
  if (spec.diskSizeBytes > vm.spec.diskSizeBytes) {
    ctx.progress?.('resizing', `work disk to ${formatSize(spec.diskSizeBytes)}`);
    await growWorkDisk(env.d.runner, env.files(vm).workDisk, spec.diskSizeBytes);
  }
  env.store.vms.setSpec(vm.id, spec);
}

async function setNat(env: VmEnv, vm: Vm, nat: boolean, alive: boolean, ctx: OpCtx): Promise<void> {
  if (alive && nat) {
    ctx.progress?.('network', 'NAT on');
    await env.d.nat.vmUp({ id: vm.id, guestIp: vm.guestIp! }, ctx);
  } else if (alive) {
    ctx.progress?.('network', 'NAT off');
    await env.d.nat.vmDown(vm.id, ctx);
  } else if (nat) {
    await env.d.nat.uplink(); // refuse now rather than at the next start
  }
  env.store.vms.setNat(vm.id, nat);
}
