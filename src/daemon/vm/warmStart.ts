import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureClientKey } from '../../guest/index.js';
import type { Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { readShape, shapeFileIn } from '../../snapshots/index.js';
import { writeWorkDiskFiles } from '../../vmdisk/index.js';
import { CleanupStack } from '../cleanupStack.js';
import type { VmEnv } from './env.js';
import { disksCreate } from './steps/disksCreate.js';
import { sshFilesForWorkDisk, sshKeysInstall } from './steps/sshKeysInstall.js';
import type { StartState } from './steps/state.js';
import { runSteps } from './steps/step.js';

/** Where a warm start restores from: a template (the clone becomes a new machine) or the VM's own saved state. */
export type WarmSource =
  | { kind: 'template'; key: string; restore: NonNullable<StartState['restore']> }
  | { kind: 'saved'; restore: NonNullable<StartState['restore']> };

function warn(env: VmEnv, vm: Vm, msg: string, ctx: OpCtx): void {
  ctx.progress?.('warm', msg);
  env.d.log.warn(msg, { op_id: ctx.opId, vm: vm.name });
}

/**
 * What this start restores, if anything (docs/howto/snapshots.md): the VM's saved state
 * (`vm stop --save`), or the template its disks sit on when the VM has never run (its host
 * key still waits in pending-identity). A saved state or template that cannot be used is
 * discarded with a warning, and so is a clone whose restore an earlier daemon did not
 * finish (its disks may have moved on from the template's memory): each boots cold.
 */
export async function warmSource(env: VmEnv, vm: Vm, ctx: OpCtx): Promise<WarmSource | null> {
  const files = env.files(vm);
  if (vm.suspended === 'saved') {
    const shape = readShape(shapeFileIn(files.savedState));
    // A fork's first start restores its source's state as a new machine (its host key waits in pending-identity).
    const identity = existsSync(files.pendingIdentity) ? 'new' : 'same';
    if (!('problem' in shape)) return { kind: 'saved', restore: { stateDir: files.savedState, shape, identity } };
    await discardSaved(env, vm, shape.problem, ctx);
    return null;
  }
  if (!existsSync(files.pendingIdentity)) return null;
  if (!vm.templateKey) {
    await ownKeysOnDisk(env, vm, ctx); // a fork whose restore an earlier daemon did not finish
    return null;
  }
  if (vm.state !== 'created') {
    await coldDisks(env, vm, 'an earlier restore of it did not finish', ctx);
    return null;
  }
  const t = env.templates.store.find(vm.templateKey);
  if (t && !('problem' in t))
    return {
      kind: 'template',
      key: vm.templateKey,
      restore: { stateDir: t.paths.stateDir, shape: t.shape, identity: 'new' },
    };
  if (t) env.templates.discard(vm.templateKey, t.problem, ctx);
  await coldDisks(env, vm, `its warm template ${vm.templateKey} is gone`, ctx);
  return null;
}

/** A failed restore: its source is discarded with the reason, and the VM made ready to boot cold. */
export async function fallBackCold(env: VmEnv, vm: Vm, warm: WarmSource, error: Error, ctx: OpCtx): Promise<void> {
  if (warm.kind === 'saved') return discardSaved(env, vm, `restoring it failed: ${error.message}`, ctx);
  env.templates.discard(warm.key, `restoring VM ${vm.name} from it failed: ${error.message}`, ctx);
  await coldDisks(env, vm, 'its restore failed', ctx);
}

async function discardSaved(env: VmEnv, vm: Vm, reason: string, ctx: OpCtx): Promise<void> {
  warn(env, vm, `VM ${vm.name}'s saved memory state was discarded (${reason}); it boots cold from its disks`, ctx);
  rmSync(env.files(vm).savedState, { recursive: true, force: true });
  env.store.vms.setRuntime(vm.id, 'stopped', null, null, null);
  await ownKeysOnDisk(env, vm, ctx);
}

/**
 * A fork that boots cold boots its source's cloned disks, whose work disk holds the
 * source's host key: the fork's own pair (pinned on the host at create, waiting for the
 * agent in pending-identity) and the client key are written there as a cold create writes
 * them, so it neither shares its source's key nor fails the pin.
 */
async function ownKeysOnDisk(env: VmEnv, vm: Vm, ctx: OpCtx): Promise<void> {
  const files = env.files(vm);
  if (!existsSync(files.pendingIdentity)) return;
  warn(env, vm, `VM ${vm.name} gets its own host key on its disk`, ctx);
  const key = (f: string) => readFileSync(join(files.pendingIdentity, f), 'utf8');
  const clientKey = await ensureClientKey(env.d.runner, env.d.config.ssh_key_path);
  await writeWorkDiskFiles(
    env.d.runner,
    files.workDisk,
    sshFilesForWorkDisk(clientKey, key('ssh_host_ed25519_key'), key('ssh_host_ed25519_key.pub')),
  );
  rmSync(files.pendingIdentity, { recursive: true, force: true });
}

/** The VM's disks made again as a cold create makes them (over the image, keys by debugfs); the template no longer under them. */
async function coldDisks(env: VmEnv, vm: Vm, reason: string, ctx: OpCtx): Promise<void> {
  warn(env, vm, `VM ${vm.name} boots cold: ${reason}`, ctx);
  const files = env.files(vm);
  for (const f of [files.rootfsOverlay, files.rootfsCopy, files.workDisk, files.pendingIdentity, files.frozenRoot])
    rmSync(f, { recursive: true, force: true });
  const image = env.d.images.show(vm.imageName ?? '');
  const undo = new CleanupStack();
  await runSteps([disksCreate, sshKeysInstall], { env, record: { ...vm, templateKey: null }, files, image }, ctx, undo);
  undo.commit();
  env.store.vms.setTemplateKey(vm.id, null);
}
