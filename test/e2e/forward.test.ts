/**
 * End-to-end: port forwards to real guests (docs/howto/networking.md). `vm run -d -p` and
 * `vm forward` serve an HTTP server started in the guest on 127.0.0.1; the forward closes
 * when the VM stops, opens again when it starts and when the daemon restarts, and goes with
 * the VM. `vm run --rm -p LOCAL:GUEST -- CMD` forwards while the command runs. One sandbox
 * (its own bridge); teardown leaves no VM, tap, bridge or daemon. A real bash completes the
 * real VM's name (`banger completion bash`).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { bangerOnPath, complete } from '../integration/bashCompletion.js';
import { freePort } from '../integration/harness.js';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';
import { HTTP_SERVER_PL, startInGuest } from './guestServers.js';

let e: E2eSandbox;

before(() => {
  e = createE2eSandbox();
});
after(async () => {
  await e.teardown();
});

/** GET http://127.0.0.1:port/: the body, or the error's code (ECONNREFUSED when nothing listens, ECONNRESET …). */
function httpGet(port: number): Promise<{ body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

/** Polls until a GET answers (the guest server may still be starting); the last result otherwise. */
async function httpGetSoon(port: number, timeoutMs = 60_000): Promise<{ body: string } | { error: string }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await httpGet(port);
    if ('body' in r || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

test('vm run -d -p and vm forward serve a guest HTTP server on 127.0.0.1; stop closes, start and a daemon restart reopen, delete removes', async () => {
  const [la, lb] = [await freePort(), await freePort()];
  const run = await e.ok(['vm', 'run', '-d', '--name', 'e2e-fwd', '-p', `${la}:8080`], 900_000);
  assert.match(run.stderr, new RegExp(`forwarding 127\\.0\\.0\\.1:${la} -> e2e-fwd:8080`));
  await startInGuest(e.s, 'e2e-fwd', HTTP_SERVER_PL, ['8080']);
  assert.deepEqual(await httpGetSoon(la), { body: 'hello from e2e-fwd\n' }, 'vm run -p serves the guest port');

  // A real bash with `banger completion bash` sourced completes the real VM's name.
  const completion = complete(bangerOnPath(e.s), [['banger', 'vm', 'stop', 'e2e-f']]);
  assert.equal(completion.spec, 'complete -F _banger banger');
  assert.deepEqual(completion.answers, ['e2e-fwd']);

  assert.equal(
    (await e.ok(['vm', 'forward', 'e2e-fwd', `${lb}:8080`])).stdout,
    `127.0.0.1:${lb} -> e2e-fwd:8080  (listening)\n`,
  );
  assert.deepEqual(await httpGet(lb), { body: 'hello from e2e-fwd\n' }, 'vm forward serves it too');
  const shown = (await e.vmJson('e2e-fwd')) as unknown as { forwards: Array<{ local: number; state: string }> };
  assert.deepEqual(
    shown.forwards.map((f) => [f.local, f.state]).sort(),
    [
      [la, 'active'],
      [lb, 'active'],
    ].sort(),
  );

  await e.ok(['vm', 'stop', 'e2e-fwd'], 120_000);
  assert.deepEqual(await httpGet(la), { error: 'ECONNREFUSED' }, 'a stopped VM forwards nothing');
  await e.ok(['vm', 'start', 'e2e-fwd'], 300_000);
  await startInGuest(e.s, 'e2e-fwd', HTTP_SERVER_PL, ['8080']);
  assert.deepEqual(await httpGetSoon(la), { body: 'hello from e2e-fwd\n' }, 'reopened when the VM started');

  await e.ok(['daemon', 'stop']);
  assert.deepEqual(await httpGet(lb), { error: 'ECONNREFUSED' });
  assert.match(
    (await e.ok(['vm', 'forward', 'e2e-fwd'])).stdout,
    new RegExp(`127\\.0\\.0\\.1:${lb} -> e2e-fwd:8080\\s+listening`),
  );
  assert.deepEqual(await httpGet(lb), { body: 'hello from e2e-fwd\n' }, 'restored by the restarted daemon');

  await e.ok(['vm', 'delete', 'e2e-fwd'], 120_000);
  assert.deepEqual(await httpGet(la), { error: 'ECONNREFUSED' });
  assert.deepEqual(await httpGet(lb), { error: 'ECONNREFUSED' });
});

test('vm run --rm -p LOCAL:GUEST -- CMD: the forward serves while the command runs, and goes with the VM', async () => {
  const lc = await freePort();
  const running = e.s.banger(
    ['vm', 'run', '--rm', '-p', `${lc}:8081`, '--', 'perl', '-e', HTTP_SERVER_PL, '8081', 'once'],
    {
      timeoutMs: 900_000,
    },
  );
  let done = false;
  void running.then(() => {
    done = true;
  });
  let got: { body: string } | { error: string } = { error: 'never tried' };
  while (!done) {
    got = await httpGet(lc);
    if ('body' in got) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`forwarding 127\\.0\\.0\\.1:${lc} -> [a-z]+-[a-z]+:8081`));
  assert.ok(
    'body' in got && /^hello from [a-z]+-[a-z]+\n$/.test(got.body),
    `the command's server answered: ${JSON.stringify(got)}`,
  );
  assert.deepEqual(await httpGet(lc), { error: 'ECONNREFUSED' }, 'deleted with the VM');
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});
