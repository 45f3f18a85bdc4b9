import type { BootSpec } from '../../../vmm/index.js';
import { adoptVmm } from './vmmAdopt.js';
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
    const spec: BootSpec = {
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
    };
    adoptVmm(s, await driver.start(spec, ctx), spec, ctx, undo);
  },
};
