/**
 * Adversarial tier: a hostile owner against the real root helper. The owner is a real
 * unprivileged user; while it races every privileged operation that touches files with
 * renameat2(RENAME_EXCHANGE) swaps of the directories it owns for decoys full of symlinks
 * to root's files, the operations run in a loop, and afterwards nothing outside banger's
 * trees (a canary tree of root's files, and everything else in the arena) has changed owner,
 * mode, link count or content, or been created or deleted. Each test also asserts that the
 * operation succeeded often enough under the race to mean something, and that the swapper
 * really swapped.
 *
 * Not here, and why: device-mapper is absent on these machines (`dmsetup create` fails with
 * "/dev/mapper/control: open failed"), so the snapshot test attaches real loop devices to
 * the descriptors (LOOP_SET_FD) and runs the refused dmsetup, and checks the undo; for the
 * same reason no jail here holds a device node (the VM's /dev/mapper node cannot exist); the jailer is a stand-in (no
 * Firecracker binary can be had here) that does what banger relies on: it starts the jail's
 * copy of the exec file as the owner and writes its pid. Image builds (mmdebstrap, ~30 s)
 * race the hand-over, the part that writes into the owner's directory; the build itself runs
 * in root's own directory and is exercised by the system-install e2e test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { handOverImage, RootSnapshotOps, type HelperScope } from '../../src/roothelper/index.js';
import { ExecHostRunner, isProcessAlive } from '../../src/system/index.js';
import { loopsUnder, makeArena, type Arena } from './arena.js';

/** Every race lasts at least this long... */
const RACE_MS = 4_000;
/** ...and goes on, up to this long, until its side of the test has the successes it counts. */
const RACE_CAP_MS = 30_000;
let a: Arena;

/**
 * Races `attempt` (root's side, in this process) against the owner swapping `pairs`: for at
 * least RACE_MS, then until `enough()` holds (up to RACE_CAP_MS), so a slow machine lengthens
 * the race rather than failing its counts. Returns the swapper's counts.
 */
async function raceSwaps(
  pairs: Array<[string, string]>,
  enough: () => boolean,
  attempt: () => Promise<void>,
): Promise<Record<string, number>> {
  const stopFile = join(a.state, `race-over-${randomBytes(4).toString('hex')}`);
  const swapper = a.asOwner({ mode: 'swap', durationMs: RACE_CAP_MS, stopFile, pairs });
  const minEnd = Date.now() + RACE_MS;
  const cap = Date.now() + RACE_CAP_MS - 300;
  try {
    while (Date.now() < cap && (Date.now() < minEnd || !enough())) await attempt();
  } finally {
    writeFileSync(stopFile, '');
  }
  try {
    return await swapper;
  } finally {
    rmSync(stopFile, { force: true });
  }
}

before(async () => {
  assert.equal(
    process.getuid?.(),
    0,
    'the adversarial tier makes a user and runs the root helper: run it as root (the README test command does)',
  );
  a = await makeArena();
});
after(async () => {
  await a?.cleanup();
});

/** Makes the file `path` (and its parents), `size` bytes, as the owner: the test itself never writes where the owner plants links. */
function ownerFile(path: string, size = 1): void {
  a.ownerSh(`mkdir -p '${join(path, '..')}' && truncate -s ${size} '${path}'`);
}

/** A decoy directory of the owner's: entries named like the real ones, each a symlink to a canary. */
function decoy(dir: string, links: Record<string, string>): void {
  a.ownerSh(
    Object.entries(links)
      .map(([name, target]) => `mkdir -p '${join(dir, name, '..')}' && ln -s '${target}' '${join(dir, name)}'`)
      .join(' && '),
  );
}

/** Files under root's tree that are neither root's nor the owner's (a link to someone else's file would be). */
function foreignFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.uid !== 0 && st.uid !== a.uid) out.push(`${p} uid ${st.uid}`);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

test("jails: prepare, start, signal and remove while the owner swaps its VM and kernel directories for decoys linking to root's files", async () => {
  const VM = 'abcd0001';
  const vmDir = join(a.state, 'vms', VM);
  ownerFile(join(vmDir, 'work.ext4'), 4096);
  ownerFile(join(vmDir, 'rootfs.raw'), 4096);
  ownerFile(join(vmDir, 'state', 'snapshot.vmstate'), 4096);
  ownerFile(join(vmDir, 'state', 'snapshot.mem'), 4096);
  ownerFile(join(a.state, 'kernels', 'k', 'vmlinux'), 4096);
  decoy(join(a.state, 'decoy-vm'), {
    'work.ext4': join(a.canary, 'secret'),
    'rootfs.raw': join(a.canary, 'passwd'),
    'console.log': join(a.canary, 'secret'),
    'state/snapshot.vmstate': join(a.canary, 'secret'),
    'state/snapshot.mem': join(a.canary, 'passwd'),
  });
  decoy(join(a.state, 'decoy-kernels'), { k: join(a.canary, 'dir'), 'k2/vmlinux': join(a.canary, 'secret') });
  const before = a.snapshotOutside();
  const cycle = {
    mode: 'requests',
    iterations: 10_000,
    minMs: RACE_MS,
    durationMs: RACE_CAP_MS,
    until: [
      'priv.prepare_jail ok',
      'priv.start_jailer ok',
      'priv.signal_process ok',
      'priv.prepare_jail unauthorized|priv.prepare_jail conflict|priv.start_jailer unauthorized',
    ],
    steps: [
      {
        method: 'priv.prepare_jail',
        params: {
          vmId: VM,
          devices: [],
          files: [
            { name: 'vmlinux', source: join(a.state, 'kernels', 'k', 'vmlinux') },
            { name: 'work.ext4', source: join(vmDir, 'work.ext4') },
            { name: 'rootfs', source: join(vmDir, 'rootfs.raw') },
            { name: 'snapshot.vmstate', source: join(vmDir, 'state', 'snapshot.vmstate') },
            { name: 'snapshot.mem', source: join(vmDir, 'state', 'snapshot.mem') },
          ],
        },
      },
      { method: 'priv.start_jailer', params: { vmId: VM } },
      { method: 'priv.signal_process', params: { pid: '$pid', signal: 'KILL' } },
      { method: 'priv.remove_jail', params: { vmId: VM }, always: true },
    ],
  };
  const owner: Record<string, number> = {};
  const swapper = await raceSwaps(
    [
      [vmDir, join(a.state, 'decoy-vm')],
      [join(a.state, 'kernels'), join(a.state, 'decoy-kernels')],
    ],
    () => true, // the owner's cycle runs until it has what the test counts (`until`)
    async () => {
      for (const [k, n] of Object.entries(await a.asOwner(cycle))) owner[k] = (owner[k] ?? 0) + n;
    },
  );
  // A round cut short by the deadline may leave its Firecracker running: stop it, then its jail.
  try {
    execFileSync('pkill', ['-KILL', '-u', a.user]);
  } catch {
    /* none left */
  }
  execFileSync('sleep', ['0.3']);
  await a.asOwner({
    mode: 'requests',
    iterations: 1,
    durationMs: 5_000,
    steps: [{ method: 'priv.remove_jail', params: { vmId: VM } }],
  });
  assert.equal(a.snapshotOutside(), before, "nothing outside banger's trees changed");
  assert.deepEqual(foreignFilesUnder(a.rootState), [], "root's jails hold only root's and the owner's files");
  assert.ok(swapper.swaps! > 1000, `the owner swapped (${JSON.stringify(swapper)})`);
  assert.ok(
    (owner['priv.prepare_jail ok'] ?? 0) > 0 &&
      (owner['priv.start_jailer ok'] ?? 0) > 0 &&
      (owner['priv.signal_process ok'] ?? 0) > 0,
    `the operations ran under the race: ${JSON.stringify(owner)}`,
  );
  assert.ok(
    (owner['priv.prepare_jail unauthorized'] ?? 0) +
      (owner['priv.prepare_jail conflict'] ?? 0) +
      (owner['priv.start_jailer unauthorized'] ?? 0) >
      0,
    `and refused what the race offered: ${JSON.stringify(owner)}`,
  );
});

test("jail removal by descriptor: the owner swaps directories with symlinks inside the jail's run/ while root removes it", async () => {
  const VM = 'abcd0002';
  const vmDir = join(a.state, 'vms', VM);
  ownerFile(join(vmDir, 'work.ext4'), 4096);
  const request = (method: string, params: object) =>
    a.asOwner({ mode: 'requests', iterations: 1, durationMs: 10_000, steps: [{ method, params }] });
  const run = join(a.rootState, 'jail', 'firecracker', VM, 'root', 'run');
  const before = a.snapshotOutside();
  let removed = 0;
  const swaps = await raceSwaps(
    [
      [join(run, 'd'), join(run, 'l')],
      [join(run, 'd', 'e'), join(run, 'm')],
    ],
    () => removed > 5,
    async () => {
      const prepared = await request('priv.prepare_jail', {
        vmId: VM,
        devices: [],
        files: [{ name: 'work.ext4', source: join(vmDir, 'work.ext4') }],
      });
      if (!prepared['priv.prepare_jail ok']) return;
      // The owner fills its run/ with a tree and links to root's directories.
      a.ownerSh(
        `mkdir -p ${run}/d/e && for i in 1 2 3 4 5 6 7 8; do echo $i > ${run}/d/f$i; echo $i > ${run}/d/e/g$i; done; ln -s ${a.canary}/dir ${run}/l; ln -s ${a.canary} ${run}/m`,
      );
      const r = await request('priv.remove_jail', { vmId: VM });
      if (r['priv.remove_jail ok']) removed++;
    },
  );
  assert.equal(a.snapshotOutside(), before, 'nothing outside the jail was removed or changed');
  assert.ok(removed > 5, `jails were removed under the race (${removed})`);
  assert.ok(swaps.swaps! > 100, `the owner swapped (${JSON.stringify(swaps)})`);
  assert.equal(existsSync(join(a.rootState, 'jail', 'firecracker', VM)), false, 'the last jail is gone');
});

test("image hand-over: root creates the owner's image files by descriptor while the owner swaps images/ and images/<name> for decoys", async () => {
  const built = join(a.base, 'built');
  mkdirSync(built);
  execFileSync('truncate', ['-s', '4M', join(built, 'rootfs.ext4')]);
  writeFileSync(join(built, 'work-seed.ext4'), 'seed');
  ownerFile(join(a.state, 'images', 'deb', 'placeholder'));
  decoy(join(a.state, 'decoy-images'), { deb: join(a.canary, 'dir') });
  decoy(join(a.state, 'images-deb-decoy'), {
    'rootfs.ext4': join(a.canary, 'secret'),
    'work-seed.ext4': join(a.canary, 'passwd'),
  });
  const scope: HelperScope = {
    ownerUid: a.uid,
    ownerGid: a.gid,
    ownerStateDir: a.state,
    rootStateDir: a.rootState,
    network: { bridgeName: a.bridge.name, bridgeIp: a.bridge.ip, cidr: a.bridge.cidr },
  };
  const before = a.snapshotOutside();
  const runner = new ExecHostRunner();
  let ok = 0;
  let refused = 0;
  const swaps = await raceSwaps(
    [
      [join(a.state, 'images'), join(a.state, 'decoy-images')],
      [join(a.state, 'images', 'deb'), join(a.state, 'images-deb-decoy')],
    ],
    () => ok > 5,
    async () => {
      try {
        await handOverImage(runner, scope, 'deb', built);
        ok++;
      } catch {
        refused++;
      }
    },
  );
  // `built` is root's and outside the owner's tree: it is part of the snapshot and must not change either.
  assert.equal(a.snapshotOutside(), before, "no link was written through, nothing of root's changed");
  assert.ok(ok > 5 && refused >= 0, `hand-overs succeeded under the race (${ok} ok, ${refused} refused)`);
  assert.ok(swaps.swaps! > 1000, `the owner swapped (${JSON.stringify(swaps)})`);
  for (const dir of [
    join(a.state, 'images', 'deb'),
    join(a.state, 'images-deb-decoy'),
    join(a.state, 'decoy-images', 'deb'),
  ]) {
    for (const f of ['rootfs.ext4', 'work-seed.ext4']) {
      const p = join(dir, f);
      if (existsSync(p) && !lstatSync(p).isSymbolicLink()) assert.equal(lstatSync(p).uid, a.uid, `${p} is the owner's`);
    }
  }
});

test("root snapshots: loops on the owner's files by descriptor (dmsetup refused here), undone, while the owner swaps its VM and image directories", async () => {
  const VM = 'abcd0004';
  const vmDir = join(a.state, 'vms', VM);
  ownerFile(join(vmDir, 'rootfs.cow'), 1 << 20);
  ownerFile(join(a.state, 'images', 'snap', 'rootfs.ext4'), 2 << 20);
  decoy(join(a.state, 'decoy-vm2'), { 'rootfs.cow': join(a.canary, 'secret') });
  decoy(join(a.state, 'decoy-snap'), { 'rootfs.ext4': join(a.canary, 'passwd') });
  decoy(join(a.state, 'images', 'snap'), { 'evil.ext4': join(a.canary, 'secret') });
  const scope: HelperScope = {
    ownerUid: a.uid,
    ownerGid: a.gid,
    ownerStateDir: a.state,
    rootStateDir: a.rootState,
    network: { bridgeName: a.bridge.name, bridgeIp: a.bridge.ip, cidr: a.bridge.cidr },
  };
  // device-mapper is absent here: claim it, so attach goes as far as the host lets it (real losetup, refused dmsetup, undo).
  const ops = new RootSnapshotOps({ runner: new ExecHostRunner(), scope, deviceMapper: () => true });
  const before = a.snapshotOutside();
  const outcomes: Record<string, number> = {};
  const reachedLosetup = 'dmsetup refused (loops made, then undone)';
  // An attach reaches losetup only while all three swapped pairs stand where they belong (about one try in eight).
  const swaps = await raceSwaps(
    [
      [vmDir, join(a.state, 'decoy-vm2')],
      [join(a.state, 'images', 'snap'), join(a.state, 'decoy-snap')],
      [join(a.state, 'images', 'snap', 'rootfs.ext4'), join(a.state, 'images', 'snap', 'evil.ext4')],
    ],
    () => (outcomes[reachedLosetup] ?? 0) > 3,
    async () => {
      try {
        await ops.attach({ vmId: VM, image: join(a.state, 'images', 'snap', 'rootfs.ext4') });
        outcomes.attached = (outcomes.attached ?? 0) + 1;
      } catch (e) {
        const key = /dmsetup/.test((e as Error).message) ? reachedLosetup : 'refused before losetup';
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
      await ops.detach({ vmId: VM });
      assert.deepEqual(loopsUnder(a.canary), [], 'no loop device ever backs a root file');
    },
  );
  assert.equal(a.snapshotOutside(), before, "nothing of root's was attached, changed or chowned");
  assert.deepEqual(loopsUnder(a.base), [], 'every loop device made was undone');
  assert.ok(
    (outcomes[reachedLosetup] ?? 0) > 3,
    `losetup ran on the descriptors under the race: ${JSON.stringify(outcomes)}`,
  );
  assert.ok(swaps.swaps! > 1000, `the owner swapped (${JSON.stringify(swaps)})`);
});

test("signals: root signals only banger VMMs of existing VMs that run as the owner, never root's processes or look-alikes", async () => {
  const VM = 'abcd0005';
  ownerFile(join(a.state, 'vms', VM, 'work.ext4'));
  const fake = join(a.base, 'fakebin');
  mkdirSync(fake, { mode: 0o755 });
  copyFileSync('/bin/sh', join(fake, 'qemu-system-x86_64'));
  chmodSync(join(fake, 'qemu-system-x86_64'), 0o755);
  const qemuLike = (vm: string, uid: number) =>
    spawn(join(fake, 'qemu-system-x86_64'), ['-c', 'sleep 60; :', '-name', `banger-${vm}`], {
      stdio: 'ignore',
      uid,
      gid: uid === 0 ? 0 : a.gid,
    });
  const rootLookalike = qemuLike(VM, 0);
  const rootSleep = spawn('sleep', ['60'], { stdio: 'ignore' });
  const ownerNoVm = qemuLike('ffff0000', a.uid);
  const ownerVmm = qemuLike(VM, a.uid);
  try {
    execFileSync('sleep', ['0.2']);
    const ask = (pid: number) =>
      a.asOwner({
        mode: 'requests',
        iterations: 1,
        durationMs: 5_000,
        steps: [{ method: 'priv.signal_process', params: { pid, signal: 'KILL' } }],
      });
    assert.deepEqual(
      await ask(rootLookalike.pid!),
      { rounds: 1, 'priv.signal_process unauthorized': 1 },
      "root's process named and dressed like a VMM",
    );
    assert.deepEqual(await ask(rootSleep.pid!), { rounds: 1, 'priv.signal_process unauthorized': 1 });
    assert.deepEqual(await ask(1), { rounds: 1, 'priv.signal_process bad_request': 1 }, 'init');
    assert.deepEqual(
      await ask(ownerNoVm.pid!),
      { rounds: 1, 'priv.signal_process unauthorized': 1 },
      'a VM that does not exist',
    );
    for (const p of [rootLookalike, rootSleep, ownerNoVm]) assert.equal(isProcessAlive(p.pid!), true);
    assert.deepEqual(await ask(ownerVmm.pid!), { rounds: 1, 'priv.signal_process ok': 1 });
  } finally {
    for (const p of [rootLookalike, rootSleep, ownerNoVm, ownerVmm]) p.kill('SIGKILL');
  }
});

test('hostile parameters: every operation refuses what root pins or a request may not name, and the host is as it was', async () => {
  const VM = 'abcd0006';
  // What the hostile requests name must not appear (other suites may add and remove their own links meanwhile).
  const named = ['br0', 'eth1', 'tap-fc-abcd1234', a.bridge.name];
  const links = () =>
    execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0])
      .filter((n): n is string => !!n && named.includes(n))
      .sort()
      .join(' ');
  const tables = () =>
    execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(a.nftTable))
      .join('\n');
  const linksBefore = links();
  const tablesBefore = tables();
  const before = a.snapshotOutside();
  const steps = [
    { method: 'priv.ensure_bridge', params: { name: 'br0', address: '192.0.2.1', prefix: 8 } },
    { method: 'priv.create_tap', params: { name: 'tap-fc-abcd1234', ownerUid: 0, ownerGid: 0 } },
    { method: 'priv.create_tap', params: { name: 'eth1' } },
    { method: 'priv.apply_nat', params: { vmId: VM, guestIp: '192.0.2.7', uplink: 'lo' } },
    { method: 'priv.apply_nat', params: { vmId: VM, guestIp: a.bridge.ip, uplink: 'lo' } },
    { method: 'priv.route_dns_domain', params: { link: 'lo', server: '127.0.0.1', domain: 'com' } },
    { method: 'priv.build_image', params: { name: 'debian-bookworm', dest: '/etc' } },
    { method: 'priv.build_image', params: { name: '../../etc' } },
    { method: 'priv.prepare_jail', params: { vmId: VM, uid: 0, gid: 0, chrootBase: '/', files: [], devices: [] } },
    {
      method: 'priv.prepare_jail',
      params: { vmId: VM, files: [{ name: 'vmlinux', source: join(a.canary, 'secret') }], devices: [] },
    },
    { method: 'priv.prepare_jail', params: { vmId: VM, files: [], devices: [{ name: 'rootfs', source: '/dev/sda' }] } },
    {
      method: 'priv.prepare_jail',
      params: { vmId: VM, files: [{ name: 'snapshot.mem', source: join(a.canary, 'secret') }], devices: [] },
    },
    {
      method: 'priv.prepare_jail',
      params: {
        vmId: VM,
        files: [{ name: 'snapshot.raw', source: join(a.state, 'vms', VM, 'work.ext4') }],
        devices: [],
      },
    },
    { method: 'priv.start_jailer', params: { vmId: VM, consoleLog: join(a.canary, 'secret') } },
    { method: 'priv.attach_root_snapshot', params: { vmId: VM, image: join(a.canary, 'secret') } },
    {
      method: 'priv.attach_root_snapshot',
      params: { vmId: VM, image: join(a.state, 'x'), cowFile: join(a.canary, 'secret') },
    },
    { method: 'priv.remove_jail', params: { vmId: '../..' } },
    { method: 'priv.set_ip_forward', params: { enabled: true, path: join(a.canary, 'secret') } },
    { method: 'priv.signal_process', params: { pid: 1, signal: 'KILL' } },
    { method: 'priv.write_file_to_image', params: { image: join(a.canary, 'secret'), path: '/x', content: '' } },
  ];
  const outcomes = await Promise.all(
    steps.map((s) => a.asOwner({ mode: 'requests', iterations: 1, durationMs: 10_000, steps: [s] })),
  );
  for (const [i, o] of outcomes.entries()) {
    const key = Object.keys(o).find((k) => k !== 'rounds')!;
    assert.doesNotMatch(key, / ok$/, `${JSON.stringify(steps[i])} was refused`);
  }
  assert.equal(links(), linksBefore, 'no link was made');
  assert.equal(tables(), tablesBefore, 'no nft table was made');
  assert.equal(a.snapshotOutside(), before);
});

test('a used jail: the jailer never runs again over a chroot the owner now controls, a root directory the owner moved in is not removed, and a huge pid file is read 32 bytes at most', async () => {
  const VM = 'abcd0007';
  const vmDir = join(a.state, 'vms', VM);
  ownerFile(join(vmDir, 'work.ext4'), 4096);
  const request = (method: string, params: object) =>
    a.asOwner({ mode: 'requests', iterations: 1, durationMs: 10_000, steps: [{ method, params }] });
  const root = join(a.rootState, 'jail', 'firecracker', VM, 'root');
  assert.deepEqual(
    await request('priv.prepare_jail', {
      vmId: VM,
      devices: [],
      files: [{ name: 'work.ext4', source: join(vmDir, 'work.ext4') }],
    }),
    { rounds: 1, 'priv.prepare_jail ok': 1 },
  );
  const started = await a.asOwner({
    mode: 'requests',
    iterations: 1,
    durationMs: 10_000,
    steps: [
      { method: 'priv.start_jailer', params: { vmId: VM } },
      { method: 'priv.signal_process', params: { pid: '$pid', signal: 'KILL' } },
    ],
  });
  assert.deepEqual(started, { rounds: 1, 'priv.start_jailer ok': 1, 'priv.signal_process ok': 1 });
  execFileSync('sleep', ['0.3']);
  assert.equal(lstatSync(root).uid, a.uid, 'the jailer handed the chroot to the owner');
  const before = a.snapshotOutside();
  // The owner plants a link where the jailer copies its exec file, and removes the pid file.
  a.ownerSh(`rm -f ${root}/firecracker ${root}/firecracker.pid && ln -s ${a.canary}/secret ${root}/firecracker`);
  assert.deepEqual(
    await request('priv.start_jailer', { vmId: VM }),
    { rounds: 1, 'priv.start_jailer conflict': 1 },
    'a used jail is prepared again first',
  );
  // A root directory the owner could not empty, moved into the jail by the owner.
  const foreign = join(a.state, 'foreign'); // the owner's, with a directory of root's inside
  mkdirSync(join(foreign, 'build'), { recursive: true });
  writeFileSync(join(foreign, 'build', 'artifact'), 'root build output');
  execFileSync('chown', [`${a.uid}:${a.gid}`, foreign]);
  a.ownerSh(`mv ${foreign} ${root}/run/foreign`);
  assert.deepEqual(await request('priv.remove_jail', { vmId: VM }), { rounds: 1, 'priv.remove_jail unauthorized': 1 });
  assert.equal(
    existsSync(join(root, 'run', 'foreign', 'build', 'artifact')),
    true,
    'root removed nothing the owner could not',
  );
  execFileSync('mv', [join(root, 'run', 'foreign'), foreign]);
  // A 1 GiB (sparse) pid file: root reads a pid's worth of it.
  a.ownerSh(`rm -f ${root}/firecracker.pid && truncate -s 1G ${root}/firecracker.pid`);
  const t0 = Date.now();
  assert.deepEqual(await request('priv.remove_jail', { vmId: VM }), { rounds: 1, 'priv.remove_jail ok': 1 });
  assert.ok(Date.now() - t0 < 3_000, `removed promptly (${Date.now() - t0} ms)`);
  assert.equal(existsSync(join(a.rootState, 'jail', 'firecracker', VM)), false);
  rmSync(foreign, { recursive: true, force: true });
  assert.equal(a.snapshotOutside(), before, "nothing outside banger's trees changed");
});
