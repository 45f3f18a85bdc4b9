/**
 * Shell completion through a real bash (docs/howto/getting-started.md): `banger completion
 * bash` is sourced, `complete -p banger` names its function, and calling it with COMP_WORDS
 * and COMP_CWORD completes verbs, flags and live VM, image and kernel names, first from the
 * running daemon and then, with the daemon stopped, from the database without starting it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { sampleVm } from '../fixtures/vms.js';
import { bangerOnPath, complete } from './bashCompletion.js';
import { createSandbox } from './harness.js';

test('bash completes verbs, flags and live VM/image/kernel names; from the database when the daemon is down, without starting it', async () => {
  const s = createSandbox();
  try {
    const env = bangerOnPath(s);
    assert.equal((await s.banger(['vm', 'list'])).code, 0); // starts the daemon, creates the store
    const store = Store.open(join(s.stateDir, 'state.db'));
    const now = new Date().toISOString();
    for (const [i, name] of ['devbox', 'dev-two', 'other'].entries()) {
      store.vms.insert(
        sampleVm({
          id: `0000000${i}`,
          name,
          dnsName: `${name}.vm`,
          guestIp: `172.16.0.${i + 2}`,
          mac: `52:54:00:00:00:0${i}`,
          createdAt: now,
        }),
      );
    }
    store.kernels.insert({
      id: 'k0000001',
      name: 'test-kernel',
      version: null,
      source: 'test',
      kernelPath: '/nonexistent/vmlinuz',
      initrdPath: null,
      modulesDir: null,
      sha256: null,
      createdAt: now,
    });
    store.images.insert({
      id: 'i0000001',
      name: 'test-image',
      source: 'test',
      distro: null,
      arch: 'x86_64',
      rootfsPath: '/nonexistent/rootfs.ext4',
      workSeedPath: null,
      kernelId: 'k0000001',
      initrdPath: null,
      sizeBytes: 1,
      createdAt: now,
      oci: null,
    });
    store.close();
    const lines = [
      ['banger', 'vm', 'st'],
      ['banger', 'vm', 'start', 'dev'],
      ['banger', 'vm', 'stop', 'devbox', 'o'],
      ['banger', 'vm', 'set', '--memory', '2G', 'dev'],
      ['banger', 'vm', 'set', '--memory', ''],
      ['banger', 'vm', 'run', '--image', 'te'],
      ['banger', 'image', 'show', ''],
      ['banger', 'kernel', 'rm', 't'],
      ['banger', 'vm', 'kill', '--s'],
      ['banger', 'vm', 'ssh', 'devbox', ''],
    ];
    const expected = [
      'start stop stats',
      'dev-two devbox',
      'other',
      'dev-two devbox',
      '',
      'test-image',
      'test-image',
      'test-kernel',
      '--signal',
      '',
    ];
    assert.ok(existsSync(s.socket), 'the daemon is up');
    const live = complete(env, lines);
    assert.equal(live.spec, 'complete -F _banger banger');
    assert.deepEqual(live.answers, expected);

    // Daemon stopped: the same names from the database, and no daemon is started for a TAB.
    assert.equal((await s.banger(['daemon', 'stop'])).code, 0);
    assert.equal(existsSync(s.socket), false);
    assert.deepEqual(complete(env, lines).answers, expected);
    assert.equal(existsSync(s.socket), false, 'completion never starts the daemon');
    assert.equal(s.daemonPid(), null);

    // A name an older banger could store (names were not checked then) is data, never shell
    // code: the bash script does not pass live names through compgen -W, which runs $(...).
    const marker = join(s.dir, 'completion-ran-a-name');
    const hostile = `x$(touch ${marker})`;
    const db = Store.open(join(s.stateDir, 'state.db'));
    db.images.insert({
      id: 'i0000002',
      name: hostile,
      source: 'test',
      distro: null,
      arch: 'x86_64',
      rootfsPath: '/nonexistent/rootfs.ext4',
      workSeedPath: null,
      kernelId: null,
      initrdPath: null,
      sizeBytes: 1,
      createdAt: now,
      oci: null,
    });
    db.close();
    assert.deepEqual(complete(env, [['banger', 'image', 'show', 'x']]).answers, [hostile]);
    assert.equal(existsSync(marker), false, 'completing a name never runs it');

    // Any failure prints nothing: an unknown kind, or an unreadable database.
    const none = spawnSync('banger', ['__complete', 'frogs'], { env, encoding: 'utf8' });
    assert.deepEqual([none.status, none.stdout, none.stderr], [0, '', '']);
    writeFileSync(join(s.stateDir, 'state.db'), 'not a database');
    const broken = spawnSync('banger', ['__complete', 'vms'], { env, encoding: 'utf8' });
    assert.deepEqual([broken.status, broken.stdout, broken.stderr], [0, '', '']);
  } finally {
    await s.cleanup();
  }
});

test('the bash script parses (bash -n); zsh and fish scripts parse where those shells are installed', (t) => {
  const s = createSandbox();
  try {
    const env = bangerOnPath(s);
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = execFileSync('banger', ['completion', shell], { env, encoding: 'utf8' });
      assert.ok(script.length > 1000, shell);
      const has = spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
      if (!has) {
        t.diagnostic(`${shell} is not installed: its script's syntax is not checked here`);
        continue;
      }
      const file = join(s.dir, `completion.${shell}`);
      writeFileSync(file, script);
      const r = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${shell} -n: ${r.stderr}`);
    }
    assert.equal(existsSync(s.socket), false, 'printing a script does not start the daemon');
  } finally {
    void s.cleanup();
  }
});
