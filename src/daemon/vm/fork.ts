import { BangerError, type Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { existsSync } from 'node:fs';
import { cloneDisk, linkOrClone, repointBacking } from '../../vmdisk/index.js';
import { checkNewName, makeVm, newRecord } from './create.js';
import { notRunning, type VmEnv } from './env.js';
import { deleteVm } from './remove.js';
import { startVm } from './start.js';
import { recordInsert } from './steps/recordInsert.js';
import { sshKeysInstall } from './steps/sshKeysInstall.js';
import { vmDirMake } from './steps/vmDirMake.js';
import { resumeGuest, saveGuest } from './suspend.js';

/** The root disk file a VM of this strategy has. */
const rootFile = (env: VmEnv, vm: Vm) =>
  vm.rootOverlay === 'qcow2' ? env.files(vm).rootfsOverlay : env.files(vm).rootfsCopy;

/**
 * `vm fork NAME [--name NEW]` (docs/howto/snapshots.md): the running VM is paused, its state
 * saved into a new VM's directory and its disks cloned there (reflinked or sparse; a qcow2
 * layer keeps its backing chain), then it runs on, unchanged. The new VM is then restored
 * from that state as a new machine: its own name, address, MAC, machine-id and host key.
 * Anything that fails removes the new VM; the source is resumed whatever happens.
 */
export async function forkVm(env: VmEnv, ref: string, p: { name?: string }, ctx: OpCtx): Promise<Vm> {
  const src0 = env.show(ref);
  if (p.name !== undefined) checkNewName(env, p.name);
  if (src0.rootOverlay === 'dm-snapshot')
    throw new BangerError(
      'bad_request',
      `VM ${src0.name}'s root disk is a device-mapper snapshot, which cannot be cloned`,
      {
        hint: 'fork VMs whose root disk is a qcow2 overlay or a copy (rootfs_overlay in the config)',
      },
    );
  const name = p.name ?? env.freshName();
  const image = env.d.images.show(src0.imageName ?? '');
  const fork = await env.locks.run(`name:${name}`, async () => {
    checkNewName(env, name);
    const record: Vm = {
      ...newRecord(env, { name, spec: src0.spec, image, vmm: src0.vmm, rootOverlay: src0.rootOverlay, nat: src0.nat }),
      state: 'stopped',
      suspended: 'saved',
      // Not the source's template: a fork is no template's clone (its disks are the source's,
      // with their own link to any frozen root), and an unfinished restore must not remake them.
      templateKey: null,
    };
    await makeVm({ env, record, files: env.files(record), image, keysByAgent: true }, ctx, [
      vmDirMake,
      recordInsert,
      sshKeysInstall,
    ]);
    return record;
  });
  try {
    await env.withVm(src0.id, (src) => snapshotInto(env, src, fork, ctx));
    ctx.progress?.('fork', `restoring ${fork.name} from ${src0.name}'s state`);
    return await startVm(env, fork.id, ctx);
  } catch (e) {
    await deleteVm(env, fork.id, ctx).catch((err: Error) =>
      env.d.log.warn('could not remove a failed fork', { op_id: ctx.opId, vm: fork.name, error: err.message }),
    );
    throw e;
  }
}

/** The source's state saved into the fork's directory and its disks cloned there, while it is paused; then it runs on. */
async function snapshotInto(env: VmEnv, src: Vm, fork: Vm, ctx: OpCtx): Promise<void> {
  const h = src.state === 'running' ? env.liveHandles(src) : null;
  if (!h) throw notRunning(src);
  const wasPaused = src.suspended === 'paused';
  try {
    await saveGuest(env, src, h, env.files(fork).savedState, ctx);
    ctx.progress?.('fork', `cloning ${src.name}'s disks`);
    await cloneDisk(env.d.runner, rootFile(env, src), rootFile(env, fork));
    await cloneDisk(env.d.runner, env.files(src).workDisk, env.files(fork).workDisk);
    // A warm source's layer backs onto its own link to a template's root: the fork gets its own.
    if (existsSync(env.files(src).frozenRoot)) {
      await linkOrClone(env.d.runner, env.files(src).frozenRoot, env.files(fork).frozenRoot);
      await repointBacking(env.d.runner, rootFile(env, fork), env.files(fork).frozenRoot);
    }
  } finally {
    // A paused source stays paused (its `vm resume` takes its disks back); a running one runs on.
    if (!wasPaused)
      await resumeGuest(env, src, h, ctx).catch((e: Error) =>
        env.d.log.warn('could not resume a fork source', { op_id: ctx.opId, vm: src.name, error: e.message }),
      );
  }
}
