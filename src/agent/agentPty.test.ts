/**
 * Terminal sessions (`exec` with `tty`) of the real banger-agent binary over stdio, as in
 * agentStream.test.ts: the command has a terminal of the asked size, its input and output go
 * through the pty, `exec_resize` changes the size, `exec_signal` reaches the foreground
 * process group, and a missing program is a clear exec_failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { agentBinaryPath } from '../buildinfo/index.js';
import { AgentClient, AgentError } from './client.js';
import type { AgentExecEvent } from './protocol.js';

function startAgent(): { child: ChildProcess; client: AgentClient } {
  const binary = agentBinaryPath();
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

/** Ends the agent; one whose session still runs (a failed test) is killed after a second. */
async function stop(child: ChildProcess): Promise<void> {
  child.stdin!.end();
  const kill = setTimeout(() => child.kill('SIGKILL'), 1_000);
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  clearTimeout(kill);
}

function session(client: AgentClient, argv: string[], rows = 30, cols = 100) {
  const events: AgentExecEvent[] = [];
  const run = client.execStream({ argv, tty: { rows, cols, term: 'vt100' } }, (e) => events.push(e));
  const text = () => Buffer.concat(events.flatMap((e) => (e.event === 'stdout' ? [e.data] : []))).toString('utf8');
  const waitFor = async (re: RegExp, ms = 5_000) => {
    const end = Date.now() + ms;
    while (!re.test(text())) {
      if (Date.now() > end) assert.fail(`no ${re} in the session's output within ${ms} ms: ${JSON.stringify(text())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { ...run, events, text, waitFor };
}

test('a tty exec runs on a terminal of the asked size, with TERM, input through the pty and its exit status', async () => {
  const a = startAgent();
  try {
    const s = session(a.client, [
      'sh',
      '-c',
      'tty >/dev/null && echo on-a-tty; echo "term=$TERM"; stty size; read x; echo "got $x"; exit 3',
    ]);
    await s.waitFor(/30 100/);
    await a.client.execInput(s.job, Buffer.from('hello\n'));
    const r = await s.done;
    assert.equal(r.exit_code, 3);
    assert.match(s.text(), /on-a-tty\r\nterm=vt100\r\n30 100\r\n/);
    assert.match(s.text(), /got hello/);
    assert.ok(
      s.events.every((e) => e.event !== 'stderr'),
      'a terminal merges stderr into stdout',
    );
  } finally {
    await stop(a.child);
  }
});

test('exec_resize changes the window size (the command gets SIGWINCH); it is not_found for a job without a pty', async () => {
  const a = startAgent();
  try {
    const s = session(a.client, ['sh', '-c', 'trap "stty size" WINCH; echo ready; while :; do sleep 0.05; done']);
    await s.waitFor(/ready/);
    assert.deepEqual(await a.client.execResize(s.job, 40, 120), { resized: true });
    await s.waitFor(/40 120/);
    await a.client.execSignal(s.job, 9);
    assert.equal((await s.done).signal, 9);
    const plain = a.client.execStream({ argv: ['sleep', '5'] }, () => {});
    await assert.rejects(a.client.execResize(plain.job, 10, 10), (e: AgentError) => e.code === 'not_found');
    await a.client.execSignal(plain.job, 9);
    await plain.done;
  } finally {
    await stop(a.child);
  }
});

test('Ctrl-C typed into the session interrupts the foreground job, not the shell', async () => {
  const a = startAgent();
  try {
    const s = session(a.client, ['sh', '-i']);
    // Typed before the shell reads its first line, input may be flushed when it sets up the terminal.
    await s.waitFor(/[#$] $/);
    await a.client.execInput(s.job, Buffer.from('sleep 30\n'));
    await new Promise((r) => setTimeout(r, 300));
    await a.client.execInput(s.job, Buffer.from('\x03'));
    await s.waitFor(/\^C\r\n[#$] $/);
    await a.client.execInput(s.job, Buffer.from('echo after-$?\n'));
    await s.waitFor(/after-130/);
    await a.client.execInput(s.job, Buffer.from('exit 5\n'));
    assert.equal((await s.done).exit_code, 5);
  } finally {
    await stop(a.child);
  }
});

test('a missing program is exec_failed naming it; tty without stream and bad sizes are refused', async () => {
  const a = startAgent();
  try {
    const s = session(a.client, ['/no/such/program']);
    await assert.rejects(
      s.done,
      (e: AgentError) => e.code === 'exec_failed' && /cannot run \/no\/such\/program: No such file/.test(e.message),
    );
    await assert.rejects(
      a.client.exec({ argv: ['true'], tty: { rows: 5, cols: 5 } }),
      (e: AgentError) => e.code === 'bad_request' && /needs params.stream/.test(e.message),
    );
    const bad = a.client.execStream({ argv: ['true'], tty: { rows: 0, cols: 5 } }, () => {});
    await assert.rejects(bad.done, (e: AgentError) => e.code === 'bad_request' && /rows/.test(e.message));
  } finally {
    await stop(a.child);
  }
});
