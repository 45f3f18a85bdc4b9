import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  mkdirSync,
  readlinkSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { IMAGE_CATALOG, DEBIAN_BOOKWORM_RECIPE, applyRecipe, ext4SizeFor, findImageEntry } from './index.js';
import { findKernelEntry } from '../kernelcat/index.js';
import { GIB, MIB } from '../model/index.js';

test('the default image has every docs/howto/vms.md package and a known kernel', () => {
  const e = findImageEntry('debian-bookworm');
  assert.ok(e);
  for (const p of [
    'systemd',
    'openssh-server',
    'iproute2',
    'ca-certificates',
    'curl',
    'git',
    'jq',
    'sudo',
    'procps',
    'less',
  ])
    assert.ok(e.recipe.packages.includes(p), p);
  for (const img of IMAGE_CATALOG) assert.ok(findKernelEntry(img.kernelRef), `${img.name} kernel ${img.kernelRef}`);
  for (const m of DEBIAN_BOOKWORM_RECIPE.masked) assert.ok(m.why.length > 10, `${m.unit} says why it is masked`);
  assert.ok(DEBIAN_BOOKWORM_RECIPE.masked.some((m) => m.unit === 'e2scrub_reap.service'));
  assert.ok(DEBIAN_BOOKWORM_RECIPE.masked.some((m) => m.unit.startsWith('serial-getty')));
});

test('applyRecipe masks units, writes files and links, and removes shared host keys', () => {
  const tree = mkdtempSync(join(tmpdir(), 'banger-recipe-'));
  try {
    mkdirSync(join(tree, 'etc/ssh'), { recursive: true });
    writeFileSync(join(tree, 'etc/ssh/ssh_host_ed25519_key'), 'shared secret');
    writeFileSync(join(tree, 'etc/machine-id'), 'deadbeef\n');
    const agent = join(tree, '..', `${basename(tree)}-agent`);
    writeFileSync(agent, '\x7fELF agent');
    applyRecipe(tree, DEBIAN_BOOKWORM_RECIPE, agent);
    assert.equal(readFileSync(join(tree, 'usr/local/bin/banger-agent'), 'utf8'), '\x7fELF agent');
    assert.equal(statSync(join(tree, 'usr/local/bin/banger-agent')).mode & 0o777, 0o755);
    assert.equal(
      readlinkSync(join(tree, 'etc/systemd/system/sysinit.target.wants/banger-agent.service')),
      '/etc/systemd/system/banger-agent.service',
    );
    assert.match(
      readFileSync(join(tree, 'etc/systemd/system/banger-agent.service'), 'utf8'),
      /^DefaultDependencies=no$/m,
    );
    assert.equal(readlinkSync(join(tree, 'etc/systemd/system/e2scrub_reap.service')), '/dev/null');
    assert.equal(
      readlinkSync(join(tree, 'etc/systemd/system/default.target')),
      '/lib/systemd/system/multi-user.target',
    );
    assert.match(readFileSync(join(tree, 'etc/systemd/journald.conf.d/banger.conf'), 'utf8'), /Storage=volatile/);
    assert.equal(statSync(join(tree, 'etc/ssh/sshd_config.d/banger.conf')).mode & 0o777, 0o644);
    const sshDropIn = readFileSync(join(tree, 'etc/systemd/system/ssh.service.d/banger.conf'), 'utf8');
    assert.match(sshDropIn, /^DefaultDependencies=no$/m);
    assert.match(sshDropIn, /^Conflicts=shutdown.target$/m, 'still stopped cleanly at shutdown');
    assert.match(sshDropIn, /^ExecStartPre=$/m);
    assert.equal(existsSync(join(tree, 'etc/ssh/ssh_host_ed25519_key')), false);
    assert.equal(readFileSync(join(tree, 'etc/machine-id'), 'utf8'), '');
    applyRecipe(tree, DEBIAN_BOOKWORM_RECIPE, agent); // idempotent
    rmSync(agent);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});

test('ext4 size: content x 1.5, floor 1 GiB, whole MiB', () => {
  assert.equal(ext4SizeFor(100 * MIB), GIB);
  assert.equal(ext4SizeFor(1000 * MIB), 1500 * MIB);
  assert.equal(ext4SizeFor(1000 * MIB + 1) % MIB, 0);
});
