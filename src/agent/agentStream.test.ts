/**
 * The real banger-agent binary over stdio (as in agent.test.ts), driven through the host
 * client's streamed exec: events in order, large output, stdin fed in pieces, exit status,
 * signals, and the buffered form still answering beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { agentBinaryPath } from '../buildinfo/index.js';
import { AgentClient, AgentError } from './client.js';
import { decodeEvent, type AgentExecEvent } from './protocol.js';

const binary = agentBinaryPath();

function startAgent(): { child: ChildProcess; client: AgentClient } {
  assert.ok(existsSync(binary), `${binary} is missing: run the build (npm run build)`);
  const child = spawn(binary, ['--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const duplex = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      child.stdin!.write(chunk, cb);
    },
  });
  child.stdout!.on('data', (c: Buffer) => duplex.push(c));
  child.stdout!.on('end', () => duplex.push(null));
  return { child, client: new AgentClient(duplex as unknown as Socket) };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.stdin!.end();
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Runs a streamed command and collects its events. */
function collect(client: AgentClient, params: Parameters<AgentClient['execStream']>[0]) {
  const events: AgentExecEvent[] = [];
  const run = client.execStream(params, (e) => events.push(e));
  const text = (stream: 'stdout' | 'stderr') =>
    Buffer.concat(events.flatMap((e) => (e.event === stream ? [e.data] : []))).toString('utf8');
  return { ...run, events, text };
}

test('decodeEvent reads started and output events and nothing else', () => {
  assert.deepEqual(decodeEvent('{"v":1,"id":4,"event":"started","pid":9}'), { id: 4, event: 'started', pid: 9 });
  const out = decodeEvent('{"v":1,"id":"x","event":"stderr","data":"aGkK"}');
  assert.equal(out?.event, 'stderr');
  assert.equal(out?.event === 'stderr' && out.data.toString(), 'hi\n');
  assert.equal(decodeEvent('{"v":1,"id":4,"ok":true,"result":{}}'), null);
  assert.equal(decodeEvent('{"v":1,"id":4,"event":"stdout"}'), null);
  assert.equal(decodeEvent('{"v":1,"event":"started","pid":1}'), null);
  assert.equal(decodeEvent('not json'), null);
});

/** Resolves once `seen()` holds (polled every 10 ms); rejects after 30 s. */
function until(seen: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (seen()) resolve();
      else if (Date.now() > deadline) reject(new Error('the expected output never came'));
      else return;
      clearInterval(t);
    }, 10);
  });
}

test('a streamed exec sends started, then output in order as it arrives, then the status', async () => {
  const a = startAgent();
  const gates = mkdtempSync(join(tmpdir(), 'bgr-gates-'));
  try {
    // Each line after the first waits for a file the test makes only once it has seen the line
    // before: output that arrives while the command still runs, in order, with no timing assumed.
    const wait = (gate: string) => `until [ -e ${gates}/${gate} ]; do sleep 0.02; done`;
    const r = collect(a.client, {
      argv: ['sh', '-c', `echo one; ${wait('a')}; echo two >&2; ${wait('b')}; echo three; exit 7`],
    });
    await until(() => r.text('stdout').includes('one'));
    writeFileSync(join(gates, 'a'), '');
    await until(() => r.text('stderr').includes('two'));
    writeFileSync(join(gates, 'b'), '');
    const result = await r.done;
    assert.equal(r.events[0]?.event, 'started');
    assert.ok(r.events[0]?.event === 'started' && r.events[0].pid > 1);
    assert.deepEqual(
      r.events.slice(1).map((e) => (e.event === 'started' ? 'started' : `${e.event}:${e.data.toString().trim()}`)),
      ['stdout:one', 'stderr:two', 'stdout:three'],
    );
    assert.equal(result.exit_code, 7);
    assert.equal(result.signal, 0);
    assert.equal(result.stdout, '');
  } finally {
    assert.equal(await stop(a.child), 0);
    rmSync(gates, { recursive: true, force: true });
  }
});

test('a streamed exec carries large binary output whole (no 16 MiB cap) and exactly', async () => {
  const a = startAgent();
  try {
    // 24 MiB of bytes 0..255 repeating: more than the buffered form's cap, and not UTF-8.
    const r = collect(a.client, {
      argv: ['sh', '-c', 'i=0; while [ $i -lt 96 ]; do head -c 262144 /dev/zero | tr "\\0" "\\377"; i=$((i+1)); done'],
    });
    const result = await r.done;
    assert.equal(result.exit_code, 0);
    const out = Buffer.concat(r.events.flatMap((e) => (e.event === 'stdout' ? [e.data] : [])));
    assert.equal(out.length, 24 * 1024 * 1024);
    assert.equal(out.indexOf(0), -1);
    assert.equal(out[0], 0xff);
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});

test('stdin fed in pieces with exec_input reaches the command, and eof ends it', async () => {
  const a = startAgent();
  try {
    const r = collect(a.client, { argv: ['sha256sum'], stdin_open: true });
    const parts = [Buffer.from('first piece\n'), Buffer.alloc(300_000, 0x61), Buffer.from([0, 1, 2, 255])];
    for (const p of parts) {
      const ack = await a.client.execInput(r.job, p);
      assert.equal(ack.closed, false);
    }
    await a.client.execInput(r.job, null, true);
    const result = await r.done;
    assert.equal(result.exit_code, 0);
    const expected = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
    assert.equal(r.text('stdout').split(' ')[0], expected);
    // The job is gone once it finished.
    await assert.rejects(a.client.execInput(r.job, Buffer.from('late')), (e: AgentError) => e.code === 'not_found');
    // stdin_open without stream is refused.
    await assert.rejects(
      a.client.exec({ argv: ['cat'], stdin_open: true }),
      (e: AgentError) => e.code === 'bad_request' && /stdin_open/.test(e.message),
    );
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});

test('exec_signal reaches the whole process group; the status names the signal', async () => {
  const a = startAgent();
  try {
    // A shell that waits on a child: INT to the group ends both.
    const r = collect(a.client, { argv: ['sh', '-c', 'echo ready; sleep 30; echo never'] });
    await until(() => r.text('stdout').includes('ready'));
    assert.deepEqual(await a.client.execSignal(r.job, 2), { sent: true });
    const result = await r.done;
    assert.equal(result.signal, 2);
    assert.equal(result.exit_code, -1);
    assert.ok(result.duration_ms < 10_000);
    assert.ok(!r.text('stdout').includes('never'));
    // KILL ends a command that ignores INT (sent once it says its trap is set).
    const stubborn = collect(a.client, { argv: ['sh', '-c', 'trap "" INT; echo ready; sleep 30'] });
    await until(() => stubborn.text('stdout').includes('ready'));
    await a.client.execSignal(stubborn.job, 2);
    await new Promise((res) => setTimeout(res, 200));
    await a.client.execSignal(stubborn.job, 9);
    assert.equal((await stubborn.done).signal, 9);
    await assert.rejects(a.client.execSignal(stubborn.job, 9), (e: AgentError) => e.code === 'not_found');
    await assert.rejects(a.client.execSignal(12345, 0), (e: AgentError) => e.code === 'not_found');
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});

test('streamed and buffered commands run side by side on one connection', async () => {
  const a = startAgent();
  try {
    const streamed = collect(a.client, { argv: ['sh', '-c', 'sleep 0.3; echo streamed'] });
    const buffered = await a.client.exec({ argv: ['echo', 'buffered'] });
    assert.equal(buffered.stdout, 'buffered\n');
    const h = await a.client.health();
    assert.ok(h.pid > 0);
    assert.equal((await streamed.done).exit_code, 0);
    assert.equal(streamed.text('stdout'), 'streamed\n');
    await assert.rejects(
      a.client.execStream({ argv: ['/no/such/program'] }, () => {}).done,
      (e: AgentError) => e.code === 'exec_failed',
    );
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});
