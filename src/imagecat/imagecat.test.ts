import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
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
import {
  IMAGE_CATALOG,
  DEBIAN_BOOKWORM_RECIPE,
  applyRecipe,
  ext4SizeFor,
  findImageEntry,
  renderRecipeScript,
  defaultImagePath,
  describeDefaultImagePath,
} from './index.js';
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

test('the recipe script installs only missing packages, writes files base64-encoded, and removes banger-init', () => {
  const script = renderRecipeScript(DEBIAN_BOOKWORM_RECIPE);
  assert.match(script, /for p in systemd systemd-sysv .* less; do/);
  assert.match(script, /apt-get install -y -qq --no-install-recommends \$missing/);
  assert.match(script, /install -D -m 0755 '\/\.banger\/agent' '\/usr\/local\/bin\/banger-agent'/);
  assert.match(script, /ln -sfn \/dev\/null '\/etc\/systemd\/system\/apt-daily\.timer'/);
  assert.match(script, /rm -rf '\/\.banger'\n/);
  const unit = DEBIAN_BOOKWORM_RECIPE.files.find((f) => f.path.endsWith('banger-agent.service'))!;
  assert.ok(script.includes(Buffer.from(unit.content).toString('base64')), 'file contents travel base64-encoded');
  assert.match(
    script,
    /ln -sfn '\/lib\/systemd\/system\/multi-user\.target' '\/etc\/systemd\/system\/default\.target'/,
  );
});

test('the recipe script runs in a shell and applies the files, masks and symlinks to a tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'bgr-recipe-'));
  try {
    // The same script applied under `root`, without the package step (it needs apt and a network).
    mkdirSync(join(root, '.banger'));
    writeFileSync(join(root, '.banger/agent'), 'agent');
    execFileSync('sh', ['-c', renderRecipeScript({ ...DEBIAN_BOOKWORM_RECIPE, packages: [] }, { root })], {
      stdio: 'pipe',
    });
    assert.equal(readFileSync(join(root, 'usr/local/bin/banger-agent'), 'utf8'), 'agent');
    assert.equal(existsSync(join(root, '.banger')), false);
    assert.equal(readlinkSync(join(root, 'etc/systemd/system/fstrim.timer')), '/dev/null');
    assert.equal(readFileSync(join(root, 'etc/banger-image'), 'utf8'), 'debian-bookworm\n');
    assert.equal(statSync(join(root, 'etc/systemd/system/banger-agent.service')).mode & 0o777, 0o644);
    assert.equal(readFileSync(join(root, 'etc/machine-id'), 'utf8'), '');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the default image path: mmdebstrap where it can run as root, else the OCI base; a set source wins', () => {
  const both = { hasMmdebstrap: true, canRunAsRoot: true };
  assert.equal(defaultImagePath('auto', both), 'mmdebstrap');
  assert.equal(defaultImagePath('auto', { ...both, canRunAsRoot: false }), 'oci');
  assert.equal(defaultImagePath('auto', { ...both, hasMmdebstrap: false }), 'oci');
  assert.equal(defaultImagePath('oci', both), 'oci');
  assert.equal(defaultImagePath('mmdebstrap', { hasMmdebstrap: false, canRunAsRoot: false }), 'mmdebstrap');
  assert.match(
    describeDefaultImagePath('auto', { hasMmdebstrap: false, canRunAsRoot: true }, 'docker.io/library/debian:bookworm'),
    /^docker\.io\/library\/debian:bookworm plus the recipe in a builder VM with NAT \(mmdebstrap is not installed\)$/,
  );
});
