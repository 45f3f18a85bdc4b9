import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  artifactNameSchema,
  vmNameProblem,
  parseSize,
  formatSize,
  parseDuration,
  formatDuration,
  GIB,
  MIB,
  resolveVmDefaults,
  vmSpecProblem,
  BUILTIN_VM_DEFAULTS,
  formatBytesIec,
  exitReasonOf,
  EXIT_CODES,
  RPC_ERROR_CODES,
} from './index.js';

test('vm names: valid DNS labels pass', () => {
  for (const n of ['a', 'dev', 'dev-box-1', '0day', 'a'.repeat(63), 'x-y']) assert.equal(vmNameProblem(n), null, n);
});

test('vm names: each rule failure is named', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['a'.repeat(64), /64 characters long; at most 63/],
    ['Dev', /uppercase letter 'D'.*not converted/],
    ['dev_box', /contains "_"/],
    ['dev.box', /contains "\."/],
    ['dév', /contains "é"/],
    ['-dev', /starts with '-'/],
    ['dev-', /ends with '-'/],
    ['has space', /contains " "/],
  ];
  for (const [name, re] of cases) assert.match(vmNameProblem(name) ?? 'valid', re, JSON.stringify(name));
});

test('sizes: units, bare MiB, decimals', () => {
  assert.equal(parseSize('8G'), 8 * GIB);
  assert.equal(parseSize('8GiB'), 8 * GIB);
  assert.equal(parseSize('512MiB'), 512 * MIB);
  assert.equal(parseSize('512m'), 512 * MIB);
  assert.equal(parseSize('2048'), 2048 * MIB);
  assert.equal(parseSize(2048), 2048 * MIB);
  assert.equal(parseSize('1.5G'), 1.5 * GIB);
  assert.equal(parseSize('4K'), 4096);
  assert.equal(parseSize('1T'), 1024 * GIB);
});

test('sizes: bad input is refused with a clear message', () => {
  assert.throws(() => parseSize('lots'), /not a size/);
  assert.throws(() => parseSize('8X'), /unknown unit "X"/);
  assert.throws(() => parseSize('0'), /greater than zero/);
  assert.throws(() => parseSize(-1), /positive/);
  assert.throws(() => parseSize('-5G'), /not a size/);
});

test('sizes: formatting', () => {
  assert.equal(formatSize(8 * GIB), '8G');
  assert.equal(formatSize(1.5 * GIB), '1.5G');
  assert.equal(formatSize(512 * MIB), '512M');
  assert.equal(formatSize(100), '100B');
  assert.equal(formatBytesIec(1.25 * GIB), '1.3 GiB');
  assert.equal(formatBytesIec(GIB), '1 GiB');
});

test('durations: parse and format', () => {
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('2h30m'), 9_000_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.throws(() => parseDuration('10'), /not a duration/);
  assert.throws(() => parseDuration('ten seconds'), /not a duration/);
  assert.throws(() => parseDuration('5x'), /not a duration/);
  assert.throws(() => parseDuration(''), /not a duration/);
  assert.equal(formatDuration(9_000_000), '2h30m');
  assert.equal(formatDuration(3200), '3.2s');
  assert.equal(formatDuration(0), '0');
});

test('vm defaults: config beats host heuristics beats built-ins, with provenance', () => {
  const big = { cpus: 32, memoryBytes: 128 * GIB };
  const small = { cpus: 2, memoryBytes: 2 * GIB };
  const r1 = resolveVmDefaults({}, big);
  assert.deepEqual([r1.vcpu.value, r1.vcpu.source], [4, 'host']);
  assert.deepEqual([r1.memoryMib.value, r1.memoryMib.source], [8192, 'host']);
  assert.deepEqual([r1.diskSizeBytes.value, r1.diskSizeBytes.source], [8 * GIB, 'built-in']);
  const r2 = resolveVmDefaults({}, small);
  assert.deepEqual([r2.vcpu.value, r2.vcpu.source], [BUILTIN_VM_DEFAULTS.vcpu, 'built-in']);
  assert.deepEqual([r2.memoryMib.value, r2.memoryMib.source], [BUILTIN_VM_DEFAULTS.memoryMib, 'built-in']);
  const r3 = resolveVmDefaults({ vcpu: 3, memoryMib: 1024, diskSizeBytes: 4 * GIB }, big);
  assert.deepEqual([r3.vcpu.value, r3.vcpu.source], [3, 'config']);
  assert.deepEqual([r3.memoryMib.value, r3.memoryMib.source], [1024, 'config']);
  assert.equal(r3.diskSizeBytes.source, 'config');
  const mid = resolveVmDefaults({}, { cpus: 8, memoryBytes: 24 * GIB });
  assert.deepEqual([mid.vcpu.value, mid.memoryMib.value], [2, 3072]);
});

test('vm spec limits name the field', () => {
  assert.equal(vmSpecProblem(BUILTIN_VM_DEFAULTS), null);
  assert.match(vmSpecProblem({ ...BUILTIN_VM_DEFAULTS, vcpu: 0 }) ?? '', /vcpu/);
  assert.match(vmSpecProblem({ ...BUILTIN_VM_DEFAULTS, memoryMib: 64 }) ?? '', /memory/);
});

test('every rpc error code maps to a documented exit code', () => {
  for (const code of Object.keys(RPC_ERROR_CODES) as Array<keyof typeof RPC_ERROR_CODES>) {
    assert.ok(EXIT_CODES[exitReasonOf(code)], code);
  }
});

test('image and kernel names a user adopts are plain: letters, digits, ".", "_", "-"', () => {
  for (const ok of ['debian-bookworm', 'debian-bookworm-cloud', 'my_img.v2', '6.1.0-cloud'])
    assert.equal(artifactNameSchema.safeParse(ok).success, true, ok);
  for (const bad of ['', '$(id)', 'a b', '-x', '.hidden', 'Upper', 'x'.repeat(64), 'a/b', 'a`b`'])
    assert.equal(artifactNameSchema.safeParse(bad).success, false, bad);
});
