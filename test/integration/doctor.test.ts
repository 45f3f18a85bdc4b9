/**
 * `banger doctor` against this real host. The expected verdicts are derived from the
 * host itself (so the test holds on any machine), and on our CI machines that means:
 * KVM present but paravirtual, no device-mapper, no vhost-vsock, PID 1 not systemd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createSandbox } from './harness.js';

interface Check {
  name: string;
  status: 'PASS' | 'WARN' | 'FAIL';
  message: string;
  hint?: string;
}

const hasCmd = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;

test('doctor reports this host as it is, each non-PASS with a hint, without starting the daemon', async () => {
  const s = createSandbox();
  try {
    const r = await s.banger(['doctor', '--json']);
    const checks = JSON.parse(r.stdout) as Check[];
    const get = (n: string) => {
      const c = checks.find((x) => x.name === n);
      assert.ok(c, `check ${n} is reported`);
      return c;
    };
    for (const c of checks) {
      assert.match(c.status, /^(PASS|WARN|FAIL)$/);
      assert.ok(c.message.length > 0);
      if (c.status !== 'PASS') assert.ok(c.hint && c.hint.length > 0, `${c.name} has a hint`);
    }
    assert.equal(r.code, checks.some((c) => c.status === 'FAIL') ? 10 : 0);

    if (existsSync('/sys/module/kvm_pvm')) {
      assert.equal(get('kvm').status, 'WARN');
      assert.match(get('kvm').message, /paravirtual.*unusable/);
    }
    if (!existsSync('/dev/kvm')) assert.match(get('kvm').message, /absent/);
    const dmWorks = spawnSync('dmsetup', ['version']).status === 0;
    assert.equal(get('device-mapper').status, dmWorks ? 'PASS' : 'WARN');
    assert.equal(get('vhost-vsock').status, existsSync('/dev/vhost-vsock') ? 'PASS' : 'WARN');
    const pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
    assert.equal(get('systemd').status, pid1 === 'systemd' ? 'PASS' : 'WARN');
    if (pid1 !== 'systemd') assert.match(get('systemd').message, new RegExp(`PID 1 is ${pid1}`));
    const qemuPresent = hasCmd('qemu-system-x86_64') && hasCmd('qemu-img');
    assert.equal(get('qemu').status === 'PASS', qemuPresent);
    assert.equal(get('tun').status, existsSync('/dev/net/tun') ? 'PASS' : 'FAIL');
    assert.equal(get('arch').status, process.arch === 'x64' ? 'PASS' : 'FAIL');
    assert.equal(get('daemon').status, 'WARN', 'no daemon in a fresh sandbox');
    assert.equal(get('state-store').status, 'PASS');
    for (const f of ['vcpu', 'memory', 'disk_size', 'system_overlay_size'])
      assert.match(get(`vm-defaults.${f}`).message, / from (config|host|built-in) \(/);
    assert.equal(existsSync(s.socket), false, 'doctor does not start the daemon');

    const text = await s.banger(['doctor']);
    const lines = text.stdout.split('\n').filter((l) => /^(PASS|WARN|FAIL) {2}/.test(l));
    assert.equal(lines.length, checks.length);
    assert.match(text.stdout, /^\d+ passed, \d+ warnings, \d+ failed$/m);
    assert.match(text.stdout, /^\s+hint: /m);

    // With the daemon up, doctor sees it and its version matches the CLI's.
    await s.banger(['vm', 'list']);
    const withDaemon = JSON.parse((await s.banger(['doctor', '--json'])).stdout) as Check[];
    assert.equal(withDaemon.find((c) => c.name === 'daemon')?.status, 'PASS');
    assert.equal(withDaemon.find((c) => c.name === 'version')?.status, 'PASS');
    assert.match(withDaemon.find((c) => c.name === 'state-store')?.message ?? '', /readable and current/);
  } finally {
    await s.cleanup();
  }
});

test('doctor reports an invalid config as a FAIL naming key and file, and exits 10', async () => {
  const s = createSandbox();
  try {
    mkdirSync(dirname(s.configFile), { recursive: true });
    writeFileSync(s.configFile, 'vmm = "vmware"\n');
    const r = await s.banger(['doctor', '--json']);
    assert.equal(r.code, 10);
    const config = (JSON.parse(r.stdout) as Check[]).find((c) => c.name === 'config');
    assert.equal(config?.status, 'FAIL');
    assert.ok(config?.message.includes(s.configFile));
    assert.match(config?.message ?? '', /key "vmm"/);
  } finally {
    await s.cleanup();
  }
});
