/**
 * The Firecracker API double is pinned to the official definition file: every path and
 * method of the definition is served, every body definition is enforced (required fields,
 * types, enums, unknown fields), and the state machine answers as Firecracker does. Then
 * banger's API client and configuration run against it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeFirecracker, loadApiSpec, resolveSchema, validateAgainst, type ApiSpec } from '../fakes/firecrackerApi.js';
import { buildFirecrackerConfig, FirecrackerApi } from '../../src/firecracker/index.js';
import type { BootSpec } from '../../src/vmm/index.js';

type Schema = Parameters<typeof validateAgainst>[1];

/** The smallest body a schema accepts: its required fields with sample values. */
function minimal(spec: ApiSpec, s0: Schema): unknown {
  const s = resolveSchema(spec, s0);
  if (s.enum) return s.enum[0];
  switch (s.type ?? (s.properties ? 'object' : 'string')) {
    case 'object':
      return Object.fromEntries((s.required ?? []).map((r) => [r, minimal(spec, s.properties![r]!)]));
    case 'array':
      return [];
    case 'integer':
      return Math.max(1, s.minimum ?? 1);
    case 'number':
      return 1;
    case 'boolean':
      return false;
    default:
      return 'x';
  }
}

function bodyOperations(spec: ApiSpec) {
  const out: Array<{ path: string; method: string; schema: Schema }> = [];
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const body = op.parameters?.find((p) => p.in === 'body');
      if (body?.schema) out.push({ path, method, schema: body.schema });
    }
  }
  return out;
}

test('every body definition of the API file is enforced: minimal bodies pass; a missing required field, an unknown field, a wrong type fail', () => {
  const spec = loadApiSpec();
  const ops = bodyOperations(spec);
  assert.ok(ops.length >= 20, `the definition has body operations (${ops.length})`);
  for (const { path, method, schema } of ops) {
    const body = minimal(spec, schema);
    assert.deepEqual(validateAgainst(spec, schema, body), [], `${method} ${path}: a minimal body is valid`);
    const s = resolveSchema(spec, schema);
    if (!s.properties) continue; // free-form objects (MMDS contents) take any fields
    for (const r of s.required ?? []) {
      const without = { ...(body as object) } as Record<string, unknown>;
      delete without[r];
      assert.ok(
        validateAgainst(spec, schema, without).some((p) => p.includes(`missing field \`${r}\``)),
        `${method} ${path}: without ${r}`,
      );
    }
    assert.ok(
      validateAgainst(spec, schema, { ...(body as object), surely_unknown: 1 }).some((p) =>
        p.includes('unknown field `surely_unknown`'),
      ),
      `${method} ${path}: unknown field`,
    );
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      const t = resolveSchema(spec, p).type;
      if (!t) continue;
      const wrong = t === 'string' ? 7 : 'seven';
      assert.ok(
        validateAgainst(spec, schema, { ...(body as object), [k]: wrong }).length > 0,
        `${method} ${path}: ${k} of the wrong type`,
      );
    }
  }
});

async function withDouble(
  fn: (fc: FakeFirecracker, api: FirecrackerApi, socket: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'banger-fc-'));
  const socket = join(dir, 'api.sock');
  let fc: FakeFirecracker | null = null;
  try {
    fc = new FakeFirecracker({ socketPath: socket });
    await fc.listen();
    await fn(fc, new FirecrackerApi(socket), socket);
  } finally {
    await fc?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function raw(socket: string, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        let b = '';
        res.on('data', (c) => {
          b += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('the double serves every path of the definition and refuses the rest, as Firecracker does', async () => {
  await withDouble(async (_fc, _api, socket) => {
    const spec = loadApiSpec();
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const method of Object.keys(ops)) {
        const r = await raw(
          socket,
          method.toUpperCase(),
          path.replace(/\{\w+\}/g, 'x'),
          method === 'get' ? undefined : '{}',
        );
        assert.doesNotMatch(r.body, /Invalid request method and\/or path/, `${method} ${path} is served`);
      }
    }
    const nope = await raw(socket, 'DELETE', '/machine-config');
    assert.equal(nope.status, 400);
    assert.match(nope.body, /Invalid request method and\/or path/);
    assert.match(
      (
        await raw(
          socket,
          'PUT',
          '/drives/a',
          JSON.stringify({ drive_id: 'b', is_root_device: false, path_on_host: '/x', is_read_only: false }),
        )
      ).body,
      /id from the path does not match/,
    );
  });
});

test("banger's configuration is accepted; start needs a kernel; pre-boot calls are refused after start; faults are quoted", async () => {
  await withDouble(async (fc, api) => {
    await assert.rejects(
      api.start(),
      /Firecracker refused PUT \/actions: Cannot start microvm without kernel configuration/,
    );
    await assert.rejects(
      api.call('PUT', '/boot-source', { boot_args: 'x' }),
      /Firecracker refused PUT \/boot-source: .*missing field `kernel_image_path`/,
    );
    const spec = {
      vmId: 'abcd1234',
      hostname: 'dev',
      vcpu: 2,
      memoryMib: 512,
      kernelPath: '/k/vmlinuz',
      initrdPath: '/k/initrd.img',
      rootDisk: { path: '/v/r', format: 'raw' },
      workDisk: '/v/w',
      network: {
        tap: 'tap-fc-abcd1234',
        mac: '52:54:ab:cd:12:34',
        addressCidr: '172.16.0.2/24',
        gateway: '172.16.0.1',
        dns: '172.16.0.1',
      },
      files: {} as never,
    } as BootSpec;
    await api.configure(
      buildFirecrackerConfig(spec, {
        vmlinux: '/k/vmlinux',
        initrd: '/k/initrd.img',
        rootDrive: '/v/r',
        workDisk: '/v/w',
        logFile: '/r/l',
        metricsFile: '/r/m',
        vsockUds: '/r/v',
      }),
    );
    assert.equal(await api.state(), 'Not started');
    await api.start();
    assert.equal(await api.state(), 'Running');
    await assert.rejects(
      api.call('PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 128 }),
      /not supported after starting the microVM/,
    );
    await api.ctrlAltDel();
    assert.deepEqual(
      fc.calls.filter((c) => c.status === 204).map((c) => `${c.method} ${c.path}`),
      [
        'PUT /logger',
        'PUT /metrics',
        'PUT /machine-config',
        'PUT /boot-source',
        'PUT /drives/root',
        'PUT /drives/work',
        'PUT /network-interfaces/eth0',
        'PUT /vsock',
        'PUT /actions',
        'PUT /actions',
      ],
    );
  });
});
