import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRootOverlay, kvmVerdict, selectVmm, type VmmFacts } from './index.js';

const host = (o: Partial<VmmFacts> = {}): VmmFacts => ({
  firecrackerBin: '/usr/bin/firecracker',
  kvm: { usable: true, reason: 'KVM is usable' },
  kernel: { name: 'fc-kernel', firecracker: true },
  ...o,
});

test('auto picks Firecracker only with the binary, usable KVM and a kernel that suits it; QEMU otherwise, saying why', () => {
  assert.equal(selectVmm('auto', host()).kind, 'firecracker');
  const cases: Array<[Partial<VmmFacts>, RegExp]> = [
    [{ firecrackerBin: null }, /no firecracker binary/],
    [{ kvm: { usable: false, reason: '/dev/kvm is absent or not accessible' } }, /KVM cannot run guests \(\/dev\/kvm/],
    [{ kernel: { name: 'debian-bookworm-cloud', firecracker: false } }, /debian-bookworm-cloud suits QEMU only/],
  ];
  for (const [facts, reason] of cases) {
    const c = selectVmm('auto', host(facts));
    assert.equal(c.kind, 'qemu');
    assert.match(c.reason, reason);
  }
  const unknown = selectVmm('auto', host({ kernel: { name: 'mine', firecracker: null } }));
  assert.equal(unknown.kind, 'firecracker');
  assert.match(unknown.warning!, /not in banger's catalog/);
});

test('an explicit choice is honoured or refused with what is missing; qemu always works', () => {
  assert.equal(selectVmm('qemu', host({ firecrackerBin: null, kvm: { usable: false, reason: 'x' } })).kind, 'qemu');
  assert.equal(selectVmm('firecracker', host()).kind, 'firecracker');
  assert.throws(
    () => selectVmm('firecracker', host({ firecrackerBin: null })),
    (e: Error & { hint?: string }) => /no firecracker binary was found/.test(e.message) && /--vmm qemu/.test(e.hint!),
  );
  assert.throws(
    () => selectVmm('firecracker', host({ kvm: { usable: false, reason: 'KVM is paravirtual' } })),
    /KVM cannot run guests here: KVM is paravirtual/,
  );
  assert.throws(
    () => selectVmm('firecracker', host({ kernel: { name: 'debian-bookworm-cloud', firecracker: false } })),
    /kernel debian-bookworm-cloud cannot boot under Firecracker/,
  );
});

test('root disks: qcow2 under QEMU, dm-snapshot or a sparse copy under Firecracker; impossible settings refused', () => {
  assert.equal(chooseRootOverlay('auto', 'qemu', true), 'qcow2');
  assert.equal(chooseRootOverlay('auto', 'firecracker', true), 'dm-snapshot');
  assert.equal(chooseRootOverlay('auto', 'firecracker', false), 'copy');
  assert.equal(chooseRootOverlay('copy', 'qemu', false), 'copy');
  assert.equal(chooseRootOverlay('dm-snapshot', 'qemu', true), 'dm-snapshot');
  assert.throws(() => chooseRootOverlay('dm-snapshot', 'firecracker', false), /device-mapper is not available/);
  assert.throws(() => chooseRootOverlay('qcow2', 'firecracker', true), /boots raw disks only/);
});

test('KVM verdict: inaccessible, paravirtual and a failed probe are unusable; never probed counts as usable', () => {
  assert.equal(kvmVerdict({ kvmAccessible: false, pvm: false, remembered: null }).usable, false);
  assert.equal(kvmVerdict({ kvmAccessible: true, pvm: true, remembered: null }).usable, false);
  assert.equal(kvmVerdict({ kvmAccessible: true, pvm: false, remembered: 'unusable' }).usable, false);
  assert.equal(kvmVerdict({ kvmAccessible: true, pvm: false, remembered: null }).usable, true);
});
