import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE_PAGES } from './index.js';
import { METHODS } from '../rpc/index.js';
import { EXIT_CODES } from '../model/index.js';
import { documentedKeys } from '../config/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

for (const [path, render] of Object.entries(REFERENCE_PAGES)) {
  test(`${path} matches the code (run \`npm run docs\` after changing it)`, () => {
    assert.equal(readFileSync(join(root, path), 'utf8'), render());
  });
}

test('the rpc page lists every method of the table, and only those', () => {
  const page = readFileSync(join(root, 'docs/reference/rpc.md'), 'utf8');
  const listed = [...page.matchAll(/^\| `([a-z._]+)` \| `\{/gm)].map((m) => m[1]);
  assert.deepEqual(listed.sort(), Object.keys(METHODS).sort());
});

test('the exit-code page pins every code', () => {
  const page = readFileSync(join(root, 'docs/reference/exit-codes.md'), 'utf8');
  for (const [name, { code }] of Object.entries(EXIT_CODES))
    assert.match(page, new RegExp(`^\\| ${code} \\| \`${name}\` \\|`, 'm'));
});

test('exit codes are stable (changing one breaks scripts that use banger)', () => {
  assert.deepEqual(Object.fromEntries(Object.entries(EXIT_CODES).map(([k, v]) => [k, v.code])), {
    ok: 0,
    failure: 1,
    usage: 2,
    not_found: 3,
    conflict: 4,
    not_running: 5,
    daemon_unavailable: 6,
    config_invalid: 7,
    unauthorized: 8,
    protocol_mismatch: 9,
    doctor_failed: 10,
    transport_failed: 125,
    interrupted: 130,
  });
});

test('the config page documents every key', () => {
  const page = readFileSync(join(root, 'docs/reference/config.md'), 'utf8');
  for (const k of documentedKeys()) assert.ok(page.includes(`| \`${k.key}\` |`), k.key);
});
