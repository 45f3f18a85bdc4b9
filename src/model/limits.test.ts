import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boundedInt,
  BUILTIN_VM_DEFAULTS,
  DISK_SIZE_LIMIT,
  GIB,
  LIMITS,
  limitProblem,
  MEMORY_MIB_LIMIT,
  memoryOverHost,
  MIB,
  TIB,
  VCPU_LIMIT,
  vmCreateParamsSchema,
  vmSpecProblem,
} from './index.js';

test('every limit is a finite whole-number range', () => {
  for (const [field, l] of Object.entries(LIMITS)) {
    assert.ok(Number.isSafeInteger(l.min) && Number.isSafeInteger(l.max), field);
    assert.ok(l.min <= l.max, field);
  }
});

test('limitProblem: bounds are inclusive; 1e308, -1, 1.5, NaN and Infinity are refused naming the limit', () => {
  assert.equal(limitProblem(VCPU_LIMIT, 1), null);
  assert.equal(limitProblem(VCPU_LIMIT, 32), null);
  assert.equal(limitProblem(MEMORY_MIB_LIMIT, 128), null);
  assert.equal(limitProblem(MEMORY_MIB_LIMIT, 1024 * 1024), null);
  for (const bad of [0, 33, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e308]) {
    assert.match(limitProblem(VCPU_LIMIT, bad) ?? '', /^vcpu must be a whole number from 1 to 32 \(got /, String(bad));
  }
  assert.equal(
    limitProblem(MEMORY_MIB_LIMIT, 1e308, '1e308 MiB'),
    'memory must be a whole number from 128 to 1048576 MiB (got 1e308 MiB)',
  );
  assert.match(limitProblem(DISK_SIZE_LIMIT, 17 * TIB) ?? '', /^disk size must be a whole number from 256M to 16T/);
  assert.match(limitProblem(DISK_SIZE_LIMIT, 255 * MIB) ?? '', /from 256M to 16T/);
});

test('vmSpecProblem: each field against its limit, and memory against the host RAM when given', () => {
  assert.equal(vmSpecProblem(BUILTIN_VM_DEFAULTS), null);
  assert.match(vmSpecProblem({ ...BUILTIN_VM_DEFAULTS, memoryMib: 1e308 }) ?? '', /^memory must be a whole number/);
  assert.match(vmSpecProblem({ ...BUILTIN_VM_DEFAULTS, diskSizeBytes: 1.5 }) ?? '', /^disk size/);
  assert.match(vmSpecProblem({ ...BUILTIN_VM_DEFAULTS, systemOverlaySizeBytes: -1 }) ?? '', /^system overlay size/);
  const host = { memoryBytes: 4 * GIB };
  assert.equal(vmSpecProblem({ ...BUILTIN_VM_DEFAULTS, memoryMib: 4096 }, host), null);
  assert.equal(
    vmSpecProblem({ ...BUILTIN_VM_DEFAULTS, memoryMib: 4097 }, host),
    "memory must be at most the host's RAM, 4096 MiB (4.0 GiB) (got 4097 MiB)",
  );
  assert.equal(memoryOverHost(100, 64 * MIB), "memory must be at most the host's RAM, 64 MiB (64 MiB) (got 100 MiB)");
});

test('wire schemas: vm.create refuses out-of-range numbers with the limit in the message', () => {
  for (const [params, re] of [
    [{ memoryMib: 1e308 }, /memoryMib.*from 128 to 1048576 MiB/],
    [{ memoryMib: -1 }, /memoryMib.*from 128/],
    [{ vcpu: 1.5 }, /vcpu.*from 1 to 32/],
    [{ diskSizeBytes: 2 ** 60 }, /diskSizeBytes.*from 256M to 16T/],
    [{ vcpu: '2' }, /vcpu.*whole number/],
  ] as const) {
    const r = vmCreateParamsSchema.safeParse(params);
    assert.equal(r.success, false, JSON.stringify(params));
    const issue = r.error!.issues[0]!;
    assert.match(`${issue.path.join('.')}: ${issue.message}`, re, JSON.stringify(params));
  }
  assert.equal(vmCreateParamsSchema.safeParse({ vcpu: 2, memoryMib: 2048, diskSizeBytes: 8 * GIB }).success, true);
  assert.equal(boundedInt(VCPU_LIMIT).safeParse(32).success, true);
});
