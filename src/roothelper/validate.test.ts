import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDebugfsStat } from '../vmdisk/index.js';
import { validate, natAddScript, vmRuleHandles, ruleHandles, hasVmRules, natDeleteScript } from './index.js';

test("nft tables are banger's own", () => {
  assert.throws(() => validate.validateNftTable('filter'), /not banger's/);
  assert.throws(() => validate.validateNftTable('banger_'), /not banger's/);
  assert.equal(validate.validateNftTable('banger_zt1'), 'banger_zt1');
});

test('nat script: table and chains, VM rules at the head with their comment, isolation last; handles found per chain', () => {
  const req = { table: 'banger', vmId: 'abcd1234', guestIp: '172.16.0.5', bridge: 'br-fc', uplink: 'eth0' };
  assert.equal(
    natAddScript(req, true),
    [
      'table ip banger {',
      '  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }',
      '  chain forward { type filter hook forward priority filter; policy accept; }',
      '}',
      'insert rule ip banger forward iifname "br-fc" oifname "eth0" ip saddr 172.16.0.5 accept comment "banger-vm:abcd1234"',
      'insert rule ip banger forward iifname "eth0" oifname "br-fc" ip daddr 172.16.0.5 ct state established,related accept comment "banger-vm:abcd1234"',
      'add rule ip banger postrouting oifname "eth0" ip saddr 172.16.0.5 masquerade comment "banger-vm:abcd1234"',
      'add rule ip banger forward iifname "br-fc" oifname != "br-fc" drop comment "banger-bridge:br-fc"',
      '',
    ].join('\n'),
  );
  assert.doesNotMatch(natAddScript(req, false), /banger-bridge/);
  const listing = `table ip banger {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" ip saddr 172.16.0.5 masquerade comment "banger-vm:abcd1234" # handle 4
		oifname "eth0" ip saddr 172.16.0.6 masquerade comment "banger-vm:ffff0000" # handle 5
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "br-fc" oifname "eth0" ip saddr 172.16.0.5 accept comment "banger-vm:abcd1234" # handle 6
		iifname "br-fc" oifname != "br-fc" drop comment "banger-bridge:br-fc" # handle 7
	}
}`;
  const h = vmRuleHandles(listing, 'abcd1234');
  assert.deepEqual(h, [
    { chain: 'postrouting', handle: 4 },
    { chain: 'forward', handle: 6 },
  ]);
  assert.deepEqual(ruleHandles(listing, 'banger-bridge:br-fc'), [{ chain: 'forward', handle: 7 }]);
  assert.equal(hasVmRules(listing), true);
  assert.equal(hasVmRules(listing.replace(/.*banger-vm.*\n/g, '')), false);
  assert.equal(
    natDeleteScript('banger', h),
    'delete rule ip banger postrouting handle 4\ndelete rule ip banger forward handle 6\n',
  );
  assert.equal(natDeleteScript('banger', []), '');
});

test('debugfs stat parsing', () => {
  const out =
    'Inode: 12   Type: regular    Mode:  0600   Flags: 0x80000\nUser:     0   Group:     0   Project:     0   Size: 3\n';
  assert.deepEqual(parseDebugfsStat(out), { size: 3, mode: '0600', uid: 0, gid: 0 });
  assert.equal(parseDebugfsStat('garbage'), null);
});
