import type { OpCtx } from '../../../opctx/index.js';
import { shapeOf, writeShape } from '../../../snapshots/index.js';
import { writeFileAtomic, writePidFile } from '../../../system/index.js';
import type { BootSpec, StartedVmm } from '../../../vmm/index.js';
import type { CleanupStack } from '../../cleanupStack.js';
import type { VmHandles } from '../types.js';
import { need } from './step.js';
import type { StartState } from './state.js';

/**
 * A VMM that a boot or a restore just started, made the VM's: its undo (stop it, release
 * what it left) pushed first, then its handles (pid file, handles file, store) and the
 * shape of the guest it runs (for a later save) recorded. The VM is running from here on.
 */
export function adoptVmm(s: StartState, vmm: StartedVmm, spec: BootSpec, ctx: OpCtx, undo: CleanupStack): void {
  const { vm, files, driver } = s;
  const tap = need(s.tap, 'the tap', 'adoptVmm');
  undo.push('release what the VMM left', () => driver.release(files, ctx));
  undo.push('stop VMM', () => driver.hardStop(vmm.pid, files, ctx));
  s.vmm = vmm;
  writeShape(files.shape, shapeOf(spec, vm.vmm));
  const handles: VmHandles = { pid: vmm.pid, tap: tap.name, vmm: vmm.detail, startedAt: new Date().toISOString() };
  writePidFile(files.pidFile, vmm.pid);
  writeFileAtomic(files.handles, `${JSON.stringify(handles)}\n`);
  s.env.store.vms.setRuntime(vm.id, 'running', handles);
}
