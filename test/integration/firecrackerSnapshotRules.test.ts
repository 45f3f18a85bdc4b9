/**
 * The API double's snapshot rules (test/fakes/firecrackerSnapshot.ts), as the v1.14.1
 * definition and Firecracker's snapshot docs state them, each refused with a 400 and
 * `fault_message`: PATCH /vm and snapshot/create only after boot, create only while Paused;
 * snapshot/load only on a fresh VMM with nothing but the logger and metrics configured,
 * with exactly one memory source, intact files of one snapshot, existing drives and
 * overrides naming the snapshot's interfaces; after a load the saved configuration, Paused
 * unless resume_vm, and post-boot rules. banger's own calls must pass the definition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildFirecrackerConfig,
  FirecrackerApi,
  pauseCall,
  snapshotCreateCall,
  snapshotLoadCall,
} from '../../src/firecracker/index.js';
import { FakeFirecracker, loadApiSpec, validateAgainst } from '../fakes/firecrackerApi.js';
import { sampleBootSpec } from '../fixtures/vms.js';

const spec = sampleBootSpec();

/** A scratch directory with the files a configuration names, and fresh doubles on sockets in it. */
async function withDir(fn: (dir: string, fresh: () => Promise<FirecrackerApi>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'banger-fcrules-'));
  const doubles: FakeFirecracker[] = [];
  for (const f of ['vmlinux', 'root', 'work']) writeFileSync(join(dir, f), f);
  const fresh = async () => {
    const socketPath = join(dir, `api-${doubles.length}.sock`);
    const fc = new FakeFirecracker({ socketPath });
    doubles.push(fc);
    await fc.listen();
    return new FirecrackerApi(socketPath);
  };
  try {
    await fn(dir, fresh);
  } finally {
    for (const fc of doubles) await fc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const configIn = (dir: string) =>
  buildFirecrackerConfig(spec, {
    vmlinux: join(dir, 'vmlinux'),
    initrd: null,
    rootDrive: join(dir, 'root'),
    workDisk: join(dir, 'work'),
    logFile: join(dir, 'log'),
    metricsFile: join(dir, 'metrics'),
    vsockUds: join(dir, 'vsock.sock'),
  });
const send = (api: FirecrackerApi, c: ReturnType<typeof pauseCall>) => api.call(c.method, c.path, c.body);

test("banger's pause, create and load bodies pass the definition", () => {
  const def = loadApiSpec();
  const cases: Array<[ReturnType<typeof pauseCall>, string]> = [
    [pauseCall('Paused'), 'Vm'],
    [snapshotCreateCall({ snapshotPath: '/s', memPath: '/m' }), 'SnapshotCreateParams'],
    [snapshotLoadCall({ snapshotPath: '/s', memPath: '/m', tap: 'tap-fc-00000001' }), 'SnapshotLoadParams'],
  ];
  for (const [call, name] of cases)
    assert.deepEqual(validateAgainst(def, { $ref: `#/definitions/${name}` }, call.body), []);
});

test('pause and create: only after boot, create only while paused; the files hold the configuration', async () => {
  await withDir(async (dir, fresh) => {
    const api = await fresh();
    const create = snapshotCreateCall({ snapshotPath: join(dir, 's'), memPath: join(dir, 'm') });
    await assert.rejects(
      send(api, pauseCall('Paused')),
      /PATCH \/vm: The requested operation is not supported before starting/,
    );
    await assert.rejects(
      send(api, create),
      /snapshot\/create: The requested operation is not supported before starting/,
    );
    await api.configure(configIn(dir));
    await api.start();
    await assert.rejects(send(api, create), /must be paused/);
    await send(api, pauseCall('Paused'));
    assert.equal(await api.state(), 'Paused');
    await send(api, create);
    const saved = JSON.parse(readFileSync(join(dir, 's'), 'utf8')) as { config: Record<string, unknown> };
    assert.deepEqual(saved.config['/machine-config'], { vcpu_count: 2, mem_size_mib: 512, smt: false });
    await assert.rejects(
      send(api, snapshotCreateCall({ snapshotPath: join(dir, 'no', 's'), memPath: join(dir, 'm') })),
      /Cannot create snapshot file/,
    );
    await send(api, pauseCall('Resumed'));
    assert.equal(await api.state(), 'Running');
    await assert.rejects(
      send(api, snapshotLoadCall({ snapshotPath: join(dir, 's'), memPath: join(dir, 'm'), tap: 't' })),
      /snapshot\/load: The requested operation is not supported after starting/,
    );
  });
});

test('load: a fresh VMM only, one memory source, intact files of one snapshot, known interfaces; then the saved VM, paused and post-boot', async () => {
  await withDir(async (dir, fresh) => {
    const template = await fresh();
    await template.configure(configIn(dir));
    await template.start();
    await send(template, pauseCall('Paused'));
    await send(template, snapshotCreateCall({ snapshotPath: join(dir, 's'), memPath: join(dir, 'm') }));
    await send(template, snapshotCreateCall({ snapshotPath: join(dir, 's2'), memPath: join(dir, 'm2') }));
    const load = snapshotLoadCall({ snapshotPath: join(dir, 's'), memPath: join(dir, 'm'), tap: 'tap-fc-00000002' });
    const body = load.body as Record<string, unknown>;
    const configured = await fresh();
    await configured.configure(configIn(dir).filter((c) => c.path === '/machine-config'));
    await assert.rejects(send(configured, load), /not allowed after configuring boot-specific resources/);

    const api = await fresh();
    await api.configure(configIn(dir).filter((c) => c.path === '/logger' || c.path === '/metrics'));
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...body, mem_file_path: join(dir, 'm') }, /too many fields: either `mem_backend` or `mem_file_path`/],
      [{ snapshot_path: body.snapshot_path }, /missing field: either `mem_backend` or `mem_file_path`/],
      [{ ...body, network_overrides: [{ iface_id: 'eth1', host_dev_name: 't' }] }, /no interface eth1/],
      [
        { ...body, mem_backend: { backend_type: 'File', backend_path: join(dir, 'm2') } },
        /not the memory of this snapshot/,
      ],
      [{ ...body, snapshot_path: join(dir, 'vmlinux') }, /Load snapshot error: .*invalid data/],
      [{ ...body, snapshot_path: join(dir, 'gone') }, /Load snapshot error: .*No such file or directory/],
      [{ ...body, resume_vm: 'yes' }, /resume_vm: expected boolean/],
    ];
    for (const [b, want] of refused)
      await assert.rejects(api.call('PUT', '/snapshot/load', b), want, JSON.stringify(b));
    rmSync(join(dir, 'work'));
    await assert.rejects(send(api, load), /Unable to open the block device backing file .*work/);
    writeFileSync(join(dir, 'work'), 'work');
    writeFileSync(join(dir, 'vsock.sock'), '');
    await assert.rejects(send(api, load), /vsock.*Address in use/);
    rmSync(join(dir, 'vsock.sock'));
    assert.equal(await api.state(), 'Not started', 'a refused load leaves the VMM fresh');

    await send(api, load);
    assert.equal(await api.state(), 'Paused');
    const cfg = (await api.vmConfig()) as Record<string, unknown>;
    assert.deepEqual(cfg['machine-config'], { vcpu_count: 2, mem_size_mib: 512, smt: false });
    assert.deepEqual(
      (cfg.drives as Array<{ path_on_host: string }>).map((d) => d.path_on_host),
      [join(dir, 'root'), join(dir, 'work')],
    );
    assert.equal((cfg['network-interfaces'] as Array<{ host_dev_name: string }>)[0]!.host_dev_name, 'tap-fc-00000002');
    assert.equal(cfg['boot-source'], undefined, 'a restored VM has no boot source');
    assert.deepEqual(validateAgainst(loadApiSpec(), { $ref: '#/definitions/FullVmConfiguration' }, cfg), []);
    for (const c of configIn(dir).filter((x) => x.path !== '/logger' && x.path !== '/metrics'))
      await assert.rejects(api.call(c.method, c.path, c.body), /not supported after starting/, c.path);
    await assert.rejects(api.start(), /not supported after starting/);
    await assert.rejects(send(api, load), /not supported after starting/);
    await send(api, pauseCall('Resumed'));
    assert.equal(await api.state(), 'Running');

    const resumed = await fresh();
    await resumed.call('PUT', '/snapshot/load', { ...body, resume_vm: true, snapshot_path: join(dir, 's') });
    assert.equal(await resumed.state(), 'Running', 'resume_vm runs it at once');
  });
});
