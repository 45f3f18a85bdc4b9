import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { BangerError, imageSchema, kernelSchema, vmCreateParamsSchema, vmSchema, type Vm } from '../model/index.js';
import { silentLogger } from '../log/index.js';
import { OperationRegistry } from '../opstate/index.js';
import {
  defineMethod,
  METHODS,
  RpcServer,
  RpcClient,
  MAX_REQUEST_BYTES,
  type Handlers,
  type ResultOf,
  DaemonUnreachableError,
} from './index.js';

/** A method table of its own, so the transport is tested apart from the daemon's methods. */
const TEST_METHODS = {
  'test.echo': defineMethod({
    name: 'test.echo',
    summary: 'echo',
    params: z.strictObject({ text: z.string() }),
    result: z.object({ text: z.string() }),
    tracked: true,
    progress: false,
  }),
  'test.slow': defineMethod({
    name: 'test.slow',
    summary: 'slow',
    params: z.strictObject({ name: z.string(), ms: z.number().optional() }),
    result: z.object({ ok: z.boolean() }),
    tracked: true,
    progress: true,
  }),
  'test.fail': defineMethod({
    name: 'test.fail',
    summary: 'fail',
    params: z.strictObject({}),
    result: z.object({}),
    tracked: true,
    progress: false,
  }),
  'test.crash': defineMethod({
    name: 'test.crash',
    summary: 'crash',
    params: z.strictObject({}),
    result: z.object({}),
    tracked: false,
    progress: false,
  }),
  'test.flood': defineMethod({
    name: 'test.flood',
    summary: 'output without end',
    params: z.strictObject({}),
    result: z.object({}),
    tracked: false,
    progress: false,
  }),
  'test.wrongResult': defineMethod({
    name: 'test.wrongResult',
    summary: 'drift',
    params: z.strictObject({}),
    result: z.object({ n: z.number() }),
    tracked: false,
    progress: false,
  }),
};

async function withServer(
  fn: (ctx: {
    socket: string;
    client: RpcClient<typeof TEST_METHODS>;
    ops: OperationRegistry;
    cancelled: () => boolean;
    flooded: () => { sent: number; reason: unknown };
  }) => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'banger-rpc-'));
  const socket = join(dir, 's.sock');
  const ops = new OperationRegistry();
  let cancelled = false;
  const flood = { sent: 0, reason: undefined as unknown };
  const handlers: Handlers<typeof TEST_METHODS> = {
    'test.flood': async (_p, ctx) => {
      const piece = Buffer.alloc(1 << 20, 0x61);
      while (!ctx.signal.aborted && flood.sent < 256 << 20) {
        ctx.output('stdout', piece);
        flood.sent += piece.length;
        await new Promise((r) => setImmediate(r));
      }
      flood.reason = ctx.signal.reason;
      return {};
    },
    'test.echo': async ({ text }) => ({ text }),
    'test.slow': async ({ ms }, ctx) => {
      ctx.progress('preparing');
      ctx.progress('booting', 'kernel');
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ms ?? 300);
        ctx.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            cancelled = true;
            reject(ctx.signal.reason);
          },
          { once: true },
        );
      });
      return { ok: true };
    },
    'test.fail': async () => {
      throw new BangerError('not_found', 'vm "x" does not exist', { hint: 'see `banger vm list`' });
    },
    'test.crash': async () => {
      throw new TypeError('undefined is not a function');
    },
    'test.wrongResult': async () => ({ n: 'not a number' }) as never,
  };
  const server = new RpcServer({
    socketPath: socket,
    methods: TEST_METHODS,
    handlers,
    log: silentLogger,
    operations: ops,
  });
  await server.listen();
  try {
    await fn({
      socket,
      client: new RpcClient(socket, TEST_METHODS),
      ops,
      cancelled: () => cancelled,
      flooded: () => flood,
    });
  } finally {
    await server.close();
    assert.equal(existsSync(socket), false, 'close removes the socket');
    rmSync(dir, { recursive: true, force: true });
  }
}

function rawRequest(socket: string, payload: string | Buffer): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
    });
    s.on('error', reject);
    s.on('close', () =>
      resolve(
        buf
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      ),
    );
    s.write(payload);
  });
}

test('socket is private (0600) and a call round-trips', async () => {
  await withServer(async ({ socket, client }) => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.deepEqual(await client.call('test.echo', { text: 'hi' }), { text: 'hi' });
  });
});

test('progress stages stream before the result and land in the operation registry', async () => {
  await withServer(async ({ client, ops }) => {
    const stages: string[] = [];
    const r = await client.call(
      'test.slow',
      { name: 'dev' },
      { onProgress: (e) => stages.push(`${e.stage}${e.detail ? `:${e.detail}` : ''}`) },
    );
    assert.deepEqual(r, { ok: true });
    assert.deepEqual(stages, ['preparing', 'booting:kernel']);
    const done = ops.list().find((o) => o.kind === 'test.slow');
    assert.equal(done?.vm, 'dev');
    assert.equal(done?.stage, 'booting');
    assert.ok(done?.doneAt);
  });
});

test('a client disconnect cancels the operation in the server', async () => {
  await withServer(async ({ client, ops, cancelled }) => {
    const ac = new AbortController();
    const p = client.call(
      'test.slow',
      { name: 'dev', ms: 60_000 }, // ends only by the abort
      {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.stage === 'booting') ac.abort();
        },
      },
    );
    await assert.rejects(p, (e: BangerError) => e.code === 'interrupted');
    for (let i = 0; i < 1000 && !cancelled(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(cancelled(), true, 'handler saw the abort');
    const op = ops.list().find((o) => o.kind === 'test.slow');
    assert.match(op?.error ?? '', /client disconnected/);
  });
});

test('a client that stops reading output gets its operation cancelled (transport_failed), not a daemon that buffers without end', async () => {
  await withServer(async ({ socket, flooded }) => {
    const s = connect(socket);
    try {
      s.pause(); // never reads: the server's writes back up
      s.write(`${JSON.stringify({ v: 1, method: 'test.flood', params: {} })}\n`);
      for (let i = 0; i < 500 && flooded().reason === undefined; i++) await new Promise((r) => setTimeout(r, 20));
      const { sent, reason } = flooded();
      assert.ok(reason instanceof BangerError && reason.code === 'transport_failed', `cancelled: ${String(reason)}`);
      assert.ok(sent < 64 << 20, `stopped after ${sent >> 20} MiB, not the whole 256 MiB`);
    } finally {
      s.destroy();
    }
  });
});

test('typed errors carry code, message, hint and op_id; unexpected errors become operation_failed', async () => {
  await withServer(async ({ client }) => {
    await assert.rejects(client.call('test.fail', {}), (e: BangerError) => {
      assert.equal(e.code, 'not_found');
      assert.equal(e.hint, 'see `banger vm list`');
      assert.match(e.opId ?? '', /^op-[0-9a-f]{10}$/);
      return true;
    });
    await assert.rejects(
      client.call('test.crash', {}),
      (e: BangerError) => e.code === 'operation_failed' && /undefined is not a function/.test(e.message),
    );
  });
});

test('protocol errors: bad_version, unknown_method, bad_request (params, JSON, shape, size)', async () => {
  await withServer(async ({ socket, client }) => {
    await assert.rejects(
      client.callRaw('test.echo', { text: 'x' }, { protocolVersion: 99 }),
      (e: BangerError) => e.code === 'bad_version' && /version 99/.test(e.message) && !!e.hint,
    );
    await assert.rejects(
      client.callRaw('vm.explode', {}),
      (e: BangerError) => e.code === 'unknown_method' && /vm\.explode/.test(e.message),
    );
    await assert.rejects(
      client.callRaw('test.echo', { text: 5 }),
      (e: BangerError) => e.code === 'bad_request' && /params\.text/.test(e.message),
    );
    await assert.rejects(
      client.callRaw('test.echo', { text: 'x', extra: 1 }),
      (e: BangerError) => e.code === 'bad_request' && /unknown field\(s\) extra/.test(e.message),
    );
    const [garbage] = await rawRequest(socket, 'not json\n');
    assert.equal((garbage!.error as { code: string }).code, 'bad_request');
    const [arr] = await rawRequest(socket, '[1,2]\n');
    assert.match((arr!.error as { message: string }).message, /JSON object/);
    const [big] = await rawRequest(socket, Buffer.alloc(MAX_REQUEST_BYTES + 10, 'a'));
    assert.match((big!.error as { message: string }).message, /larger than/);
    const [noVersion] = await rawRequest(socket, '{"method":"test.echo","params":{"text":"x"}}\n');
    assert.equal((noVersion!.error as { code: string }).code, 'bad_version');
  });
});

test('one request per connection: a second line is ignored', async () => {
  await withServer(async ({ socket }) => {
    const msgs = await rawRequest(
      socket,
      '{"v":1,"method":"test.echo","params":{"text":"a"}}\n{"v":1,"method":"test.echo","params":{"text":"b"}}\n',
    );
    assert.deepEqual(
      msgs.map((m) => m.type),
      ['result'],
    );
  });
});

test('the client validates results against the shared declaration', async () => {
  await withServer(async ({ client }) => {
    await assert.rejects(client.call('test.wrongResult', {}), /does not match this CLI's expectations/);
  });
});

test('no daemon: DaemonUnreachableError', async () => {
  const c = new RpcClient('/tmp/definitely-not-a-banger-socket.sock', TEST_METHODS);
  await assert.rejects(
    c.call('test.echo', { text: 'x' }),
    (e: Error) => e instanceof DaemonUnreachableError && /no socket/.test(e.message),
  );
});

test('the method table takes the shapes other modules share from model/: one declaration each', () => {
  assert.equal(METHODS['vm.create'].params, vmCreateParamsSchema);
  assert.equal(METHODS['vm.list'].result.shape.vms.element, vmSchema);
  assert.equal(METHODS['image.show'].result.shape.image, imageSchema);
  assert.equal(METHODS['kernel.show'].result.shape.kernel, kernelSchema);
  // And the type the daemon returns is the type the client gets.
  const same: Vm = {} as ResultOf<typeof METHODS, 'vm.show'>['vm'];
  assert.ok(same);
});
