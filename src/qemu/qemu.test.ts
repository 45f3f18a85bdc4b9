import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildQemuArgv, kernelCommandLine, decideAccel, tscKhzFrom } from './index.js';
import { vmFiles, systemLayout } from '../paths/index.js';
import type { BootSpec } from '../vmm/index.js';

const spec: BootSpec = {
  vmId: 'abcd1234',
  hostname: 'dev',
  vcpu: 2,
  memoryMib: 1024,
  kernelPath: '/k/vmlinuz',
  initrdPath: '/k/initrd.img',
  rootDisk: { path: '/s/vms/abcd1234/rootfs.qcow2', format: 'qcow2' },
  workDisk: '/s/vms/abcd1234/work.ext4',
  network: {
    tap: 'tap-fc-abcd1234',
    mac: '52:54:00:ab:cd:12',
    addressCidr: '172.16.0.2/24',
    gateway: '172.16.0.1',
    dns: '172.16.0.1',
  },
  files: vmFiles(systemLayout(), 'abcd1234'),
};

const pairs = (argv: string[]) => {
  const m = new Map<string, string[]>();
  for (let i = 1; i < argv.length; i++)
    if (argv[i]!.startsWith('-') && argv[i + 1] !== undefined)
      m.set(argv[i]!, [...(m.get(argv[i]!) ?? []), argv[i + 1]!]);
  return m;
};

test('qemu argv: microvm, accelerator, resources, disks, tap, serial, qmp, pid file', () => {
  const tcg = pairs(buildQemuArgv('/usr/bin/qemu-system-x86_64', spec, 'tcg'));
  assert.deepEqual(tcg.get('-M'), ['microvm,acpi=on']);
  assert.deepEqual(tcg.get('-accel'), ['tcg,thread=multi']);
  assert.deepEqual(tcg.get('-cpu'), ['max']);
  assert.deepEqual(tcg.get('-m'), ['1024']);
  assert.deepEqual(tcg.get('-smp'), ['2']);
  assert.deepEqual(tcg.get('-drive'), [
    'id=root,file=/s/vms/abcd1234/rootfs.qcow2,format=qcow2,if=none',
    'id=work,file=/s/vms/abcd1234/work.ext4,format=raw,if=none',
  ]);
  assert.deepEqual(tcg.get('-netdev'), ['tap,id=n0,ifname=tap-fc-abcd1234,script=no,downscript=no']);
  assert.ok(tcg.get('-device')!.includes('virtio-net-device,netdev=n0,mac=52:54:00:ab:cd:12'));
  assert.deepEqual(tcg.get('-serial'), ['chardev:console']);
  assert.ok(tcg.get('-chardev')!.includes('file,id=console,path=/var/lib/banger/vms/abcd1234/console.log,append=on'));
  assert.deepEqual(tcg.get('-qmp'), ['unix:/run/banger/vms/abcd1234/qmp.sock,server=on,wait=off']);
  assert.deepEqual(tcg.get('-pidfile'), ['/run/banger/vms/abcd1234/vmm.pid']);
  const kvm = pairs(buildQemuArgv('q', spec, 'kvm'));
  assert.deepEqual([kvm.get('-accel'), kvm.get('-cpu')], [['kvm'], ['host']]);
  assert.equal(buildQemuArgv('q', { ...spec, initrdPath: null }, 'tcg').includes('-initrd'), false);
});

test('TCG guests get the host TSC rate so early calibration cannot hang; KVM guests do not', () => {
  const tcg = buildQemuArgv('q', spec, 'tcg', 2_600_000);
  assert.match(tcg[tcg.indexOf('-append') + 1]!, / tsc_early_khz=2600000$/);
  const kvm = buildQemuArgv('q', spec, 'kvm', 2_600_000);
  assert.doesNotMatch(kvm[kvm.indexOf('-append') + 1]!, /tsc_early_khz/);
  assert.doesNotMatch(buildQemuArgv('q', spec, 'tcg', null).join(' '), /tsc_early_khz/);
  assert.equal(tscKhzFrom({ tscFreqKhz: '2999998\n', cpuinfo: 'cpu MHz : 1200.000' }), 2_999_998);
  assert.equal(
    tscKhzFrom({ cpuinfo: 'model name\t: Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz\ncpu MHz\t\t: 3100.000\n' }),
    2_400_000,
  );
  assert.equal(tscKhzFrom({ cpuinfo: 'model name\t: Intel(R) Xeon(R) Processor\ncpu MHz\t\t: 2600.000\n' }), 2_600_000);
  assert.equal(tscKhzFrom({ cpuinfo: 'nothing useful' }), null);
});

test('kernel command line carries the per-VM settings for the initramfs', () => {
  assert.equal(
    kernelCommandLine(spec),
    'console=ttyS0 quiet net.ifnames=0 banger.root=/dev/vda banger.work=/dev/vdb banger.hostname=dev banger.ip=172.16.0.2/24 banger.gw=172.16.0.1 banger.dns=172.16.0.1',
  );
});

test('accelerator decision: config, missing or paravirtual KVM, remembered probe, probe needed', () => {
  const f = { kvmAccessible: true, pvm: false, remembered: null } as const;
  assert.equal(decideAccel('tcg', f).accel, 'tcg');
  assert.equal(decideAccel('kvm', { ...f, kvmAccessible: false }).accel, 'kvm');
  assert.equal(decideAccel('auto', { ...f, kvmAccessible: false }).accel, 'tcg');
  assert.match(decideAccel('auto', { ...f, pvm: true }).reason, /paravirtual/);
  assert.equal(decideAccel('auto', { ...f, remembered: 'usable' }).accel, 'kvm');
  assert.equal(decideAccel('auto', { ...f, remembered: 'unusable' }).accel, 'tcg');
  assert.equal(decideAccel('auto', f).needsProbe, true);
});
