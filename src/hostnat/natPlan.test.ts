import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNatDown, planNatUp, uplinkFromRoutes, type NatHostState } from './natPlan.js';

const vm = { id: 'abcd1234', guestIp: '172.16.0.5' };
const apply = { op: 'applyNat', vmId: 'abcd1234', guestIp: '172.16.0.5', bridge: 'br-fc', uplink: 'eth0' } as const;

test('planNatUp: rules first, forwarding switched on only when off (and then it is ours)', () => {
  const cases: Array<[string, NatHostState, unknown[], boolean]> = [
    [
      'first NAT VM, forwarding off',
      { othersUp: 0, ipForward: false, forwardingIsOurs: false },
      [apply, { op: 'setIpForward', enabled: true }],
      true,
    ],
    ['host already forwards', { othersUp: 0, ipForward: true, forwardingIsOurs: false }, [apply], false],
    ['second NAT VM, forwarding ours', { othersUp: 1, ipForward: true, forwardingIsOurs: true }, [apply], true],
    [
      'ours but someone switched it off',
      { othersUp: 1, ipForward: false, forwardingIsOurs: true },
      [apply, { op: 'setIpForward', enabled: true }],
      true,
    ],
  ];
  for (const [name, state, steps, ours] of cases) {
    const plan = planNatUp(vm, 'br-fc', 'eth0', state);
    assert.deepEqual(plan.steps, steps, name);
    assert.equal(plan.forwardingIsOurs, ours, name);
  }
});

test('planNatDown: rules removed; forwarding off only when ours and no other NAT VM is up', () => {
  const remove = { op: 'removeNat', vmId: 'abcd1234' };
  const cases: Array<[string, NatHostState, unknown[], boolean]> = [
    [
      'last NAT VM, forwarding ours',
      { othersUp: 0, ipForward: true, forwardingIsOurs: true },
      [remove, { op: 'setIpForward', enabled: false }],
      false,
    ],
    ['another NAT VM still up', { othersUp: 1, ipForward: true, forwardingIsOurs: true }, [remove], true],
    ['the host forwarded before banger', { othersUp: 0, ipForward: true, forwardingIsOurs: false }, [remove], false],
    ['already off', { othersUp: 0, ipForward: false, forwardingIsOurs: true }, [remove], true],
  ];
  for (const [name, state, steps, ours] of cases) {
    const plan = planNatDown('abcd1234', state);
    assert.deepEqual(plan.steps, steps, name);
    assert.equal(plan.forwardingIsOurs, ours, name);
  }
});

test('uplinkFromRoutes: the default route with the lowest metric', () => {
  assert.equal(uplinkFromRoutes('[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]'), 'eth0');
  assert.equal(
    uplinkFromRoutes(
      '[{"dst":"default","dev":"wlan0","metric":600},{"dst":"default","dev":"eth0","metric":100},{"dst":"10.0.0.0/8","dev":"tun0"}]',
    ),
    'eth0',
  );
  assert.equal(uplinkFromRoutes('[]'), null);
  assert.equal(uplinkFromRoutes('not json'), null);
});
