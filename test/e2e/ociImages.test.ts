/**
 * End-to-end: `image pull` of OCI images from a real registry (Debian's docker-registry on
 * 127.0.0.1, started here) into bootable images, each booted on a real QEMU/TCG guest:
 *   - busybox with busybox init and no sshd (gzip layer): command, exit status, `vm ports`,
 *     and an interactive shell through the agent's PTY session;
 *   - an application image with no init at all (zstd layer): banger-init is PID 1;
 *   - three uncompressed layers with real whiteouts, an opaque directory, a directory
 *     replaced by a file, a setuid file and /etc/shadow 0640 root:shadow;
 *   - Debian minbase with systemd and sshd (mmdebstrap, Docker media types): ssh as with the
 *     default image, setuid passwd and sudo, shadow, an interactive ssh shell.
 * Then the default image made without mmdebstrap (default_image_source = "oci"): the
 * Debian image as its base, the recipe applied in a builder VM, booted with systemd and ssh.
 * Pulls, the cache and failed pulls without booting are in test/integration/imagePull.test.ts.
 * At most one VM at a time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDockerRegistry, type TestRegistry } from '../fixtures/dockerRegistry.js';
import { appLayers, busyboxLayers, debianLayers, multiLayer, type TestLayer } from '../fixtures/ociTestImages.js';
import { pushImage } from '../fixtures/registryPush.js';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';
import { inTerminal } from './terminal.js';

let e: E2eSandbox;
let reg: TestRegistry;

const push = (repo: string, layers: TestLayer[], format: 'oci' | 'docker' = 'oci') =>
  pushImage(reg.url, repo, '1', { layers: layers.map((l) => l.blob), layerMediaType: l0(layers), format });
const l0 = (layers: TestLayer[]) => layers[0]!.mediaType;
const ref = (repo: string) => `${reg.host}/${repo}:1`;

before(async () => {
  reg = await startDockerRegistry();
  // The default image, when this sandbox makes it, comes from the Debian test image below.
  e = createE2eSandbox(['default_image_source = "oci"', `default_image_oci_base = "${reg.host}/test/debian:1"`]);
  await push('test/busybox', busyboxLayers('gzip'));
  await push('test/app', appLayers('zstd'));
  await push('test/multi', multiLayer('none'));
});
after(async () => {
  try {
    await e.teardown();
  } finally {
    await reg.stop();
  }
});

/**
 * A VM of `image` (no sshd): a server it starts shows in `vm ports`, an interactive shell
 * through the agent answers with its hostname and exit status, and `vm stop` powers it off.
 */
async function inGuest(vm: string, image: string): Promise<void> {
  await e.ok(['vm', 'create', '--name', vm, '--image', image], 600_000);
  try {
    // busybox httpd daemonizes; `vm ports` (the agent's view of /proc/net) names it.
    await e.ok(['vm', 'exec', vm, '--', '/bin/busybox', 'httpd', '-p', '8080', '-h', '/tmp']);
    assert.match((await e.ok(['vm', 'ports', vm])).stdout, /8080.*busybox|busybox.*8080/);
    const shell = await inTerminal(e.s.env, ['vm', 'ssh', vm], 'echo $((6*7)); hostname; exit 3\n');
    assert.match(shell.out, /42/);
    assert.match(shell.out, new RegExp(vm));
    assert.equal(shell.code, 3, shell.out);
    await e.ok(['vm', 'stop', vm], 300_000);
  } finally {
    await e.s.banger(['vm', 'delete', vm]);
  }
}

test('a pull shows each layer with bytes and rate; image show reports what was found and injected', async () => {
  const pull = await e.ok(['image', 'pull', ref('test/busybox')], 1_800_000); // also obtains the kernel
  assert.match(pull.stderr, /layer.*1\/1 [0-9a-f]{12} /);
  const img = JSON.parse((await e.ok(['image', 'show', 'busybox-1'])).stdout) as {
    oci: { ref: string; init: string; injected: string[]; sshd: boolean };
  };
  assert.equal(img.oci.ref, ref('test/busybox'));
  assert.deepEqual([img.oci.init, img.oci.sshd], ['other', false]);
  assert.ok(img.oci.injected.includes('/.banger/init') && img.oci.injected.includes('/.banger/agent'));
});

test('a busybox image without sshd: command and status, vm ports, an interactive shell through the agent', async () => {
  const run = await e.s.banger(
    ['vm', 'run', '--rm', '--image', 'busybox-1', '--', '/bin/sh', '-c', 'echo hi; cat /etc/os-release; exit 3'],
    {
      timeoutMs: 600_000,
    },
  );
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stdout, /^hi\nID=bangerbusybox/);
  await inGuest('e2e-bb', 'busybox-1');
});

test('an application image with no init: banger-init is PID 1 and runs the command', async () => {
  await e.ok(['image', 'pull', ref('test/app'), '--name', 'app'], 600_000);
  assert.equal(JSON.parse((await e.ok(['image', 'show', 'app'])).stdout).oci.init, 'none');
  const r = await e.ok(
    ['vm', 'run', '--rm', '--image', 'app', '--', '/bin/sh', '-c', '/app/hello; cat /proc/1/cmdline | tr "\\0" " "'],
    600_000,
  );
  assert.match(r.stdout, /hello from the app image\n\/\.banger\/init/);
  await inGuest('e2e-app', 'app');
});

test('three layers: whiteouts, an opaque dir, a dir replaced by a file, setuid and shadow ownership hold in the guest', async () => {
  await e.ok(['image', 'pull', ref('test/multi'), '--name', 'multi', '--size', '1G'], 600_000);
  const r = await e.ok(
    [
      'vm',
      'run',
      '--rm',
      '--image',
      'multi',
      '--',
      '/bin/sh',
      '-c',
      'ls /opt/data; test -e /etc/motd || echo no-motd; cat /opt/swap; stat -c "%a %u:%g" /usr/local/bin/suid-tool /etc/shadow',
    ],
    600_000,
  );
  assert.equal(r.stdout, 'new\nno-motd\nnow a file\n4755 0:0\n640 0:42\n');
  await inGuest('e2e-multi', 'multi');
});

test('Debian minbase with systemd and sshd: ssh as with the default image; setuid and shadow owners', async () => {
  await push('test/debian', debianLayers(), 'docker');
  await e.ok(['image', 'pull', ref('test/debian'), '--name', 'deb'], 1_200_000);
  const img = JSON.parse((await e.ok(['image', 'show', 'deb'])).stdout) as { oci: { init: string; sshd: boolean } };
  assert.deepEqual([img.oci.init, img.oci.sshd], ['systemd', true]);
  await e.ok(['vm', 'create', '--name', 'e2e-deb', '--image', 'deb'], 900_000);
  try {
    const st = await e.ok([
      'vm',
      'ssh',
      'e2e-deb',
      '--',
      'stat',
      '-c',
      '%a %U:%G',
      '/etc/shadow',
      '/usr/bin/passwd',
      '/usr/bin/sudo',
    ]);
    assert.equal(st.stdout, '640 root:shadow\n4755 root:root\n4755 root:root\n');
    // The work disk (/root) started with the image's own /root files.
    assert.equal((await e.ok(['vm', 'ssh', 'e2e-deb', '--', 'ls', '-A', '/root'])).stdout.includes('.bashrc'), true);
    assert.match((await e.ok(['vm', 'ports', 'e2e-deb'])).stdout, /\b22\b/);
    const shell = await inTerminal(e.s.env, ['vm', 'ssh', 'e2e-deb'], 'echo $((6*7)); exit 4\n');
    assert.match(shell.out, /42/);
    assert.equal(shell.code, 4, shell.out);
  } finally {
    await e.s.banger(['vm', 'delete', 'e2e-deb']);
  }
});

test('the default image from an OCI base: recipe applied in a builder VM, then it boots systemd with ssh and the agent', async () => {
  const doctor = await e.s.banger(['doctor']);
  assert.match(
    doctor.stdout + doctor.stderr,
    /default image is made with .*test\/debian:1 plus the recipe in a builder VM/,
  );
  const pull = await e.ok(['image', 'pull', 'debian-bookworm'], 1_800_000);
  assert.match(pull.stderr, /recipe/);
  assert.deepEqual(
    (JSON.parse((await e.ok(['vm', 'list', '--json'])).stdout) as unknown[]).length,
    0,
    'the builder VM is gone',
  );
  await e.ok(['vm', 'create', '--name', 'e2e-default'], 900_000);
  try {
    const r = await e.ok([
      'vm',
      'ssh',
      'e2e-default',
      '--',
      'sh',
      '-c',
      'cat /etc/banger-image; test -e /.banger || echo no-banger-init; systemctl is-active banger-agent; readlink /proc/1/exe',
    ]);
    assert.equal(r.stdout, 'debian-bookworm\nno-banger-init\nactive\n/usr/lib/systemd/systemd\n');
  } finally {
    await e.s.banger(['vm', 'delete', 'e2e-default']);
  }
});
