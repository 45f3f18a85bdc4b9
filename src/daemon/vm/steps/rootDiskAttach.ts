import type { StartStep } from './state.js';

/**
 * The root disk the VMM opens, by the VM's strategy: its qcow2 overlay or raw copy as they
 * are, or a device-mapper snapshot of the image attached now. Undo: the snapshot is detached.
 */
export const rootDiskAttach: StartStep = {
  name: 'rootDiskAttach',
  async run(s, ctx, undo) {
    const { privileged } = s.env.d;
    if (s.vm.rootOverlay === 'qcow2') {
      s.rootDisk = { path: s.files.rootfsOverlay, format: 'qcow2' };
      return;
    }
    if (s.vm.rootOverlay === 'copy') {
      s.rootDisk = { path: s.files.rootfsCopy, format: 'raw' };
      return;
    }
    ctx.progress?.('root disk', 'device-mapper snapshot');
    const { device } = await privileged.attachRootSnapshot({ vmId: s.vm.id, image: s.image.rootfsPath }, ctx);
    s.rootDisk = { path: device, format: 'raw' };
    undo.push('detach root snapshot', () => privileged.detachRootSnapshot({ vmId: s.vm.id }, ctx));
  },
};
