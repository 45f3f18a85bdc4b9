import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer } from './coalesce.js';
import { KeyedMutex } from './keyedMutex.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('concurrent pulls of one name coalesce into one run; other names run on their own', async () => {
  const c = new Coalescer<string>();
  let runs = 0;
  const pull = (name: string) =>
    c.run(name, async () => {
      runs++;
      await tick(30);
      return `${name}#${runs}`;
    });
  const [a, b, other] = await Promise.all([pull('debian'), pull('debian'), pull('alpine')]);
  assert.equal(a, b, 'the second caller waited for the first');
  assert.equal(runs, 2);
  assert.notEqual(other, a);
  await pull('debian');
  assert.equal(runs, 3, 'a later pull runs again');
  const failing = new Coalescer<void>();
  await assert.rejects(
    Promise.all([
      failing.run('x', async () => {
        throw new Error('mirror down');
      }),
      failing.run('x', async () => {}),
    ]),
    /mirror down/,
  );
});

test('operations on one key never interleave; a failure does not block the next', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const op = (key: string, name: string, fail = false) =>
    m.run(key, async () => {
      log.push(`${name}:start`);
      await tick(20);
      log.push(`${name}:end`);
      if (fail) throw new Error(name);
    });
  await Promise.allSettled([op('vm1', 'a', true), op('vm1', 'b'), op('vm2', 'c')]);
  const a = log.indexOf('a:end');
  const b = log.indexOf('b:start');
  assert.ok(a < b, `b starts after a ends: ${log.join(' ')}`);
  assert.ok(log.indexOf('c:start') < log.indexOf('a:end'), 'another key runs alongside');
});
