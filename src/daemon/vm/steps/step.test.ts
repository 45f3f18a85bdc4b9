import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CleanupStack } from '../../cleanupStack.js';
import { runSteps, type Step } from './step.js';

test('runSteps: steps run in order; a failure stops the list and unwinding undoes what ran, newest first', async () => {
  const log: string[] = [];
  const step = (name: string, fail = false): Step<{ seen: string[] }> => ({
    name,
    async run(s, _ctx, undo) {
      if (fail) throw new Error(`${name} failed`);
      s.seen.push(name);
      undo.push(`undo ${name}`, () => {
        log.push(`undo ${name}`);
      });
    },
  });
  const state = { seen: [] as string[] };
  const undo = new CleanupStack();
  await assert.rejects(
    runSteps([step('a'), step('b'), step('c', true), step('d')], state, { opId: 'op-test' }, undo),
    /c failed/,
  );
  assert.deepEqual(state.seen, ['a', 'b']);
  assert.deepEqual(await undo.unwind(), []);
  assert.deepEqual(log, ['undo b', 'undo a']);
});
