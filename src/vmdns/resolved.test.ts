import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dnsRecipes, resolvedPresent, routesVmDomain } from './resolved.js';
import { resolvedRoutingArgv } from '../roothelper/index.js';

test('resolved detection by its runtime files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-resolved-'));
  try {
    assert.equal(resolvedPresent(dir), false);
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n');
    assert.equal(resolvedPresent(dir), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('routing ~vm: the resolvectl calls, and reading back whether the link routes it', () => {
  assert.deepEqual(resolvedRoutingArgv('br-fc', '172.16.0.1', 'vm'), [
    ['resolvectl', 'dns', 'br-fc', '172.16.0.1'],
    ['resolvectl', 'domain', 'br-fc', '~vm'],
    ['resolvectl', 'dnssec', 'br-fc', 'no'],
    ['resolvectl', 'default-route', 'br-fc', 'no'],
  ]);
  assert.equal(routesVmDomain('Link 7 (br-fc): ~vm'), true);
  assert.equal(routesVmDomain('Link 7 (br-fc):'), false);
  assert.equal(routesVmDomain('Link 7 (br-fc): ~vmx'), false);
});

test('recipes name the configured addresses', () => {
  const text = dnsRecipes({ listenHost: '127.0.0.1', listenPort: 42069, bridge: 'br-fc', bridgeIp: '172.16.0.1' });
  assert.match(text, /server=\/vm\/127\.0\.0\.1#42069/);
  assert.match(text, /resolvectl domain br-fc '~vm'/);
  assert.match(text, /dig @127\.0\.0\.1 -p 42069 NAME\.vm/);
});
