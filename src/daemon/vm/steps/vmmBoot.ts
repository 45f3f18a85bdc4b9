import { writeFileAtomic, writePidFile } from '../../../system/index.js';
import type { VmHandles } from '../types.js';
import { need } from './step.js';
import type { StartStep } from './state.js';

/**
 * The VMM started with the VM's boot spec, and its handles recorded (pid file, handles
 * file, store): the VM is running from here on. Undo: the VMM is stopped hard and what it
 * left outside the VM's files (a jail) is released.
 */
export const vmmBoot: StartStep = {
  name: 'vmmBoot',
  async run(s, ctx, undo) {
    const { config } = s.env.d;
    const { vm, files, driver, kernel } = s;
    const tap = need(s.tap, 'the tap', this.name);
    ctx.progress?.('booting', `${vm.vmm}, ${vm.spec.vcpu} vcpu, ${vm.spec.memoryMib} MiB`);
    const vmm = await driver.start(
      {
        vmId: vm.id,
        hostname: vm.name,
        vcpu: vm.spec.vcpu,
        memoryMib: vm.spec.memoryMib,
        kernelPath: kernel.kernelPath,
        initrdPath: kernel.initrdPath,
        rootDisk: need(s.rootDisk, 'the root disk', this.name),
        workDisk: files.workDisk,
        network: {
          tap: tap.name,
          mac: vm.mac!,
          addressCidr: `${vm.guestIp}/${config.cidr}`,
          gateway: config.bridge_ip,
          dns: config.default_dns ?? config.bridge_ip,
        },
        files,
      },
      ctx,
    );
    undo.push('release what the VMM left', () => driver.release(files, ctx));
    undo.push('stop VMM', () => driver.hardStop(vmm.pid, files, ctx));
    s.vmm = vmm;
    const handles: VmHandles = { pid: vmm.pid, tap: tap.name, vmm: vmm.detail, startedAt: new Date().toISOString() };
    writePidFile(files.pidFile, vmm.pid);
    writeFileAtomic(files.handles, `${JSON.stringify(handles)}\n`);
    s.env.store.vms.setRuntime(vm.id, 'running', handles);
  },
};
