import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VmStats } from '../../../model/index.js';
import { describeAutoStop } from './render.js';
import { renderVmStats } from './stats.js';

const NOW = Date.parse('2026-11-30T10:20:00.000Z');
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

const running: VmStats = {
  name: 'dev',
  id: 'abcd1234',
  state: 'running',
  sampledAt: '2026-11-30T10:19:55.000Z',
  vcpu: 2,
  cpuPercent: 37.25,
  vmmPid: 4242,
  vmmRssBytes: 600 * MIB,
  uptimeS: 3725,
  disks: {
    root: { path: '/x/rootfs.qcow2', allocatedBytes: 200 * MIB, apparentBytes: 201 * MIB },
    work: { path: '/x/work.ext4', allocatedBytes: 1.5 * GIB, apparentBytes: 8 * GIB },
  },
  net: { tap: 'tap-fc-abcd', rxBytes: 12 * MIB, txBytes: 3 * 1024 },
  guest: {
    memTotalBytes: 2 * GIB,
    memAvailableBytes: 1.5 * GIB,
    memUsedBytes: 512 * MIB,
    uptimeS: 3700,
    load: [0.1, 0.2, 0.3],
    tcpEstablishedIn: 1,
    tcpEstablishedInPorts: [22],
  },
  guestError: null,
  touchedAt: '2026-11-30T10:02:00.000Z',
  autoStop: {
    enabled: true,
    afterMs: 20 * 60_000,
    idleSince: '2026-11-30T10:02:00.000Z',
    stopAt: '2026-11-30T10:22:00.000Z',
  },
};

test('vm stats table: human units, used/total and allocated/apparent pairs, and the auto-stop time', () => {
  const stopped: VmStats = {
    ...running,
    name: 'old',
    state: 'stopped',
    cpuPercent: null,
    vmmPid: null,
    vmmRssBytes: null,
    uptimeS: null,
    net: null,
    guest: null,
    autoStop: { ...running.autoStop, stopAt: null },
  };
  const away: VmStats = { ...running, name: 'away', guest: null, guestError: 'the agent did not answer: timeout' };
  const lines = renderVmStats([running, stopped, away], NOW).trimEnd().split('\n');
  assert.match(
    lines[0]!,
    /^NAME\s+STATE\s+VCPU\s+CPU%\s+MEM\s+VMM RSS\s+ROOT\s+WORK\s+NET RX\/TX\s+UP\s+CONN\s+AUTO-STOP$/,
  );
  assert.deepEqual(lines[1]!.split(/\s{2,}/), [
    'dev',
    'running',
    '2',
    '37.3',
    '512M/2G',
    '600M',
    '200M/201M',
    '1.5G/8G',
    '12M/3K',
    '1h2m5s',
    '1',
    'in 2m',
  ]);
  assert.deepEqual(lines[2]!.split(/\s{2,}/), [
    'old',
    'stopped',
    '2',
    '-',
    '-',
    '-',
    '200M/201M',
    '1.5G/8G',
    '-',
    '-',
    '-',
    '-',
  ]);
  assert.equal(lines[3]!.split(/\s{2,}/)[4], '?', 'a running VM whose agent is away');
  assert.match(renderVmStats([], NOW), /no running VMs/);
});

test('describeAutoStop: off, pending with the idle time, overdue, and a VM that is not running', () => {
  assert.equal(describeAutoStop({ ...running.autoStop, enabled: false, afterMs: 0, stopAt: null }, NOW), 'off');
  assert.equal(describeAutoStop(running.autoStop, NOW), 'in 2m (idle since 2026-11-30T10:02:00.000Z)');
  assert.equal(
    describeAutoStop(running.autoStop, NOW + 3 * 60_000),
    'at the next check (idle since 2026-11-30T10:02:00.000Z)',
  );
  assert.equal(describeAutoStop({ ...running.autoStop, stopAt: null }, NOW), 'when running and idle for 20m');
});
