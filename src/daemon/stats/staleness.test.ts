import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoStopOf, staleVerdict } from './staleness.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const MIN = 60_000;

test('staleVerdict: stops a running VM idle past the threshold with no connection into it', () => {
  const base = { state: 'running' as const, touchedAt: at(0), afterMs: 20 * MIN, nowMs: T0 + 21 * MIN };
  assert.deepEqual(staleVerdict({ ...base, connectionsIn: 0 }), { stop: true, idleMs: 21 * MIN });
  // The agent did not answer: no connection was reported, so idleness alone decides.
  assert.deepEqual(staleVerdict({ ...base, connectionsIn: null }), { stop: true, idleMs: 21 * MIN });
});

test('staleVerdict: keeps VMs that are connected, recently used, not running, or when auto-stop is off', () => {
  const base = {
    state: 'running' as const,
    touchedAt: at(0),
    afterMs: 20 * MIN,
    nowMs: T0 + 21 * MIN,
    connectionsIn: 0,
  };
  assert.deepEqual(staleVerdict({ ...base, connectionsIn: 1 }), { stop: false, reason: 'connected' });
  assert.deepEqual(staleVerdict({ ...base, nowMs: T0 + 20 * MIN }), { stop: false, reason: 'recently_used' });
  assert.deepEqual(staleVerdict({ ...base, nowMs: T0 + 5 * MIN }), { stop: false, reason: 'recently_used' });
  assert.deepEqual(staleVerdict({ ...base, state: 'stopped' }), { stop: false, reason: 'not_running' });
  assert.deepEqual(staleVerdict({ ...base, state: 'error' }), { stop: false, reason: 'not_running' });
  assert.deepEqual(staleVerdict({ ...base, afterMs: 0 }), { stop: false, reason: 'off' });
});

test('staleVerdict: an unreadable touched time counts as idle for ever', () => {
  const v = staleVerdict({ state: 'running', touchedAt: 'garbage', afterMs: MIN, nowMs: T0, connectionsIn: 0 });
  assert.equal(v.stop, true);
});

test('autoStopOf: the stop time is touched + threshold for a running VM; none when off or stopped', () => {
  assert.deepEqual(autoStopOf({ state: 'running', touchedAt: at(0) }, 20 * MIN), {
    enabled: true,
    afterMs: 20 * MIN,
    idleSince: at(0),
    stopAt: at(20 * MIN),
  });
  assert.equal(autoStopOf({ state: 'stopped', touchedAt: at(0) }, 20 * MIN).stopAt, null);
  assert.deepEqual(autoStopOf({ state: 'running', touchedAt: at(0) }, 0), {
    enabled: false,
    afterMs: 0,
    idleSince: at(0),
    stopAt: null,
  });
});
