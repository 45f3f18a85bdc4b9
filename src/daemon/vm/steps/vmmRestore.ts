import { restoreSpec } from '../../../snapshots/index.js';
import { need } from './step.js';
import type { StartStep } from './state.js';
import { adoptVmm } from './vmmAdopt.js';

/**
 * A warm start's VMM: a new one of the saved shape loading the saved state onto the VM's
 * own disks and tap, its handles recorded, then resumed. A guest that becomes a new machine
 * resumes with its NIC unplugged (where the back-end can), so it cannot speak with the saved
 * guest's address until guestIdentity has given it its own. Undo: the VMM is stopped hard.
 */
export const vmmRestore: StartStep = {
  name: 'vmmRestore',
  async run(s, ctx, undo) {
    const { vm, files, driver } = s;
    const restore = need(s.restore, 'the state to restore', this.name);
    const tap = need(s.tap, 'the tap', this.name);
    const rootDisk = need(s.rootDisk, 'the root disk', this.name);
    if (restore.shape.rootFormat !== rootDisk.format)
      throw new Error(
        `the saved state wants a ${restore.shape.rootFormat} root disk; VM ${vm.name} has ${rootDisk.format}`,
      );
    ctx.progress?.(
      'restoring',
      `${vm.vmm}, ${restore.shape.vcpu} vcpu, ${restore.shape.memoryMib} MiB, from a saved state`,
    );
    const spec = restoreSpec(restore.shape, {
      vmId: vm.id,
      files,
      workDisk: files.workDisk,
      rootPath: rootDisk.path,
      tap: tap.name,
    });
    s.restoreTried = true;
    const vmm = await driver.restore(spec, restore.stateDir, ctx);
    adoptVmm(s, vmm, spec, ctx, undo);
    s.linkDown = restore.identity === 'new' && (await driver.setLink(vmm.pid, files, false));
    await driver.resume(vmm.pid, files, ctx);
  },
};
