import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrivParams, PRIV_METHOD_BY_WIRE, PRIV_METHOD_NAMES, PRIV_METHODS, type PrivMethod } from './index.js';

/** What each operation must refuse, before anything reaches the host. */
const REFUSED: Record<PrivMethod, Array<[unknown, RegExp]>> = {
  settings: [[{ x: 1 }, /unknown parameter x/]],
  ensureBridge: [[{ name: 'br0', address: '10.0.0.1', prefix: 8 }, /unknown parameters name, address, prefix/]],
  createTap: [
    [{ name: 'eth0' }, /name: must be tap-fc/],
    [{ name: 'tap-fc-abcd12345' }, /name: must be/],
    [{ name: 'tap-fc-ABCD' }, /name: must be/],
    [{ name: 'tap-fc-abcd1234', bridge: 'br-x' }, /unknown parameter bridge/],
    [{ name: 'tap-fc-abcd1234', ownerUid: 0, ownerGid: 0 }, /unknown parameters ownerUid, ownerGid/],
  ],
  deleteTap: [
    [{ name: 'lo' }, /must be tap-fc/],
    [{}, /name/],
  ],
  listTaps: [[{ all: true }, /unknown parameter all/]],
  setIpForward: [
    [{ enabled: 'yes' }, /enabled/],
    [{ enabled: true, path: '/etc/passwd' }, /unknown parameter path/],
  ],
  applyNat: [
    [{ vmId: '../etc', guestIp: '172.16.0.5', uplink: 'eth0' }, /vmId: must be a VM id/],
    [{ vmId: 'abcd1234', guestIp: '172.16.0.300', uplink: 'eth0' }, /guestIp: must be an IPv4/],
    [{ vmId: 'abcd1234', guestIp: '172.16.0.5', uplink: 'tap-fc-abcd1234' }, /uplink: must be a host interface/],
    [{ vmId: 'abcd1234', guestIp: '172.16.0.5', uplink: 'eth0; rm -rf /' }, /uplink: must be a network interface name/],
    [{ vmId: 'abcd1234', guestIp: '172.16.0.5', uplink: 'eth0', bridge: 'br-fc' }, /unknown parameter bridge/],
  ],
  removeNat: [[{ vmId: 'ABCD1234' }, /vmId/]],
  routeDnsDomain: [[{ link: 'eth0', server: '6.6.6.6', domain: 'com' }, /unknown parameters link, server, domain/]],
  buildImage: [
    [{ name: '../../etc' }, /name: must be a catalog image name/],
    [{ name: 'debian-bookworm', dest: '/etc' }, /unknown parameter dest/],
  ],
  prepareJail: [
    [{ vmId: 'abcd1234', files: [{ name: 'shadow', source: '/etc/shadow' }], devices: [] }, /files\.0\.name/],
    [
      { vmId: 'abcd1234', files: [{ name: 'vmlinux', source: 'relative/path' }], devices: [] },
      /files\.0\.source: must be an absolute, normalised path/,
    ],
    [
      { vmId: 'abcd1234', files: [{ name: 'vmlinux', source: '/var/lib/banger/../../etc/shadow' }], devices: [] },
      /must be an absolute, normalised path/,
    ],
    [{ vmId: 'abcd1234', files: [], devices: [{ name: 'dev/sda', source: '/dev/sda' }] }, /devices\.0\.name/],
    [
      { vmId: 'abcd1234', files: [], devices: [], uid: 0, gid: 0, chrootBase: '/' },
      /unknown parameters uid, gid, chrootBase/,
    ],
  ],
  startJailer: [
    [{ vmId: 'abcd1234', consoleLog: '/etc/passwd' }, /unknown parameter consoleLog/],
    [{ vmId: 'abcd1234', uid: 0 }, /unknown parameter uid/],
  ],
  removeJail: [[{ vmId: 'abcd1234', chrootBase: '/' }, /unknown parameter chrootBase/]],
  attachRootSnapshot: [
    [{ vmId: 'abcd1234', image: '/x', cowFile: '/dev/sda' }, /unknown parameter cowFile/],
    [{ vmId: 'abcd1234', image: 'x' }, /image: must be an absolute/],
  ],
  detachRootSnapshot: [[{ vmId: 'abcd1234', cowFile: '/x' }, /unknown parameter cowFile/]],
  signalProcess: [
    [{ pid: 1, signal: 'KILL' }, /pid/],
    [{ pid: 1.5, signal: 'KILL' }, /pid/],
    [{ pid: 1e308, signal: 'KILL' }, /pid/],
    [{ pid: 1234, signal: 'STOP' }, /signal/],
    [{ pid: 1234, signal: 'SIGKILL' }, /signal/],
  ],
};

test('every privileged operation refuses malformed or smuggled parameters with a sentence naming the field', () => {
  for (const m of PRIV_METHOD_NAMES) {
    assert.ok(REFUSED[m].length > 0, `${m} has refusal cases`);
    for (const [params, message] of REFUSED[m]) {
      assert.throws(
        () => parsePrivParams(m, params),
        (e: Error & { code?: string }) =>
          e.code === 'bad_request' && message.test(e.message) && e.message.startsWith(PRIV_METHODS[m].wire),
        `${m} ${JSON.stringify(params)}`,
      );
    }
  }
});

test('well-formed parameters pass, and the wire names map back one to one', () => {
  assert.deepEqual(parsePrivParams('createTap', { name: 'tap-pool-0' }), { name: 'tap-pool-0' });
  assert.deepEqual(parsePrivParams('ensureBridge', undefined), {});
  assert.deepEqual(parsePrivParams('signalProcess', { pid: 4242, signal: 'TERM' }), { pid: 4242, signal: 'TERM' });
  assert.equal(PRIV_METHOD_BY_WIRE.size, PRIV_METHOD_NAMES.length);
  for (const m of PRIV_METHOD_NAMES) {
    assert.equal(PRIV_METHOD_BY_WIRE.get(PRIV_METHODS[m].wire), m);
    assert.match(PRIV_METHODS[m].wire, /^priv\.[a-z_]+$/);
  }
});
