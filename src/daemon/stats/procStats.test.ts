import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cpuPercent, parseCounter, parseProcStat, parseVmRssBytes, type CpuSample } from './procStats.js';

test('parseProcStat: utime+stime and starttime, counted from the last ")" of a name with spaces and parentheses', () => {
  const line =
    '4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1500 250 0 0 20 0 3 0 987654 3133440 393 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n';
  assert.deepEqual(parseProcStat(line), { cpuTicks: 1750, startTicks: 987654 });
  assert.equal(parseProcStat(''), null);
  assert.equal(parseProcStat('12 (x) S 1 2'), null, 'too few fields');
  assert.equal(parseProcStat('12 (x) S 1 2 3 4 5 6 7 8 9 10 -1 5 0 0 0 0 0 0 77'), null, 'negative utime');
});

test("parseProcStat reads this process's own /proc/self/stat", () => {
  const s = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.ok(s && s.cpuTicks >= 0 && s.startTicks > 0);
});

test('parseVmRssBytes: VmRSS in kB to bytes; absent (kernel thread) is null', () => {
  assert.equal(
    parseVmRssBytes('Name:\tqemu\nVmPeak:\t  9 kB\nVmRSS:\t  524288 kB\nRssAnon:\t 1 kB\n'),
    512 * 1024 * 1024,
  );
  assert.equal(parseVmRssBytes('Name:\tkthreadd\nState:\tS (sleeping)\n'), null);
  assert.ok((parseVmRssBytes(readFileSync('/proc/self/status', 'utf8')) ?? 0) > 1024 * 1024);
});

test('cpuPercent: ticks over wall time in percent of one core; null without a prior sample of the same process', () => {
  const a: CpuSample = { pid: 10, startTicks: 5, cpuTicks: 1000, atMs: 0 };
  // 150 ticks = 1.5 s of CPU in 1 s: one and a half cores.
  assert.equal(cpuPercent(a, { ...a, cpuTicks: 1150, atMs: 1000 }), 150);
  assert.equal(cpuPercent(a, { ...a, cpuTicks: 1001, atMs: 3000 }), 0.3);
  assert.equal(cpuPercent(undefined, a), null);
  assert.equal(cpuPercent(a, { ...a, pid: 11, atMs: 1000 }), null, 'another pid');
  assert.equal(cpuPercent(a, { ...a, startTicks: 6, atMs: 1000 }), null, 'the pid was reused');
  assert.equal(cpuPercent(a, { ...a, atMs: 0 }), null, 'no time passed');
  assert.equal(cpuPercent(a, { ...a, cpuTicks: 900, atMs: 1000 }), null, 'a counter going back');
});

test('parseCounter: one decimal number per /sys statistics file', () => {
  assert.equal(parseCounter('123456\n'), 123456);
  assert.equal(parseCounter(''), null);
  assert.equal(parseCounter('-1\n'), null);
  assert.equal(parseCounter('12 34'), null);
});
