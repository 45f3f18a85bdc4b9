import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ExecHostRunner,
  CommandError,
  which,
  ProcessSupervisor,
  ChildExitedError,
  readPidFile,
  isProcessAlive,
  processCmdline,
  processName,
  processState,
} from './index.js';

const runner = new ExecHostRunner();

/** Supervised children are unref'd, so poll (keeping the loop alive) until one is reaped. */
async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 200 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 10));
}

test('runner: argv is passed verbatim (no shell), stdout and stdin work', async () => {
  const r = await runner.run(['printf', '%s|', 'a b', '$(rm -rf /)', ';']);
  assert.equal(r.stdout, 'a b|$(rm -rf /)|;|');
  const c = await runner.run(['cat'], { stdin: 'from stdin' });
  assert.equal(c.stdout, 'from stdin');
});

test('runner: non-zero exit throws with command, code and stderr tail', async () => {
  await assert.rejects(runner.run(['sh', '-c', 'echo oops >&2; exit 3']), (e: CommandError) => {
    assert.ok(e instanceof CommandError);
    assert.equal(e.exitCode, 3);
    assert.equal(e.stderrTail, 'oops');
    assert.match(e.message, /command failed: sh -c .*exit code 3: oops/);
    return true;
  });
  const r = await runner.run(['sh', '-c', 'exit 4'], { allowFailure: true });
  assert.equal(r.exitCode, 4);
});

test('runner: missing binary, timeout and cancellation', async () => {
  await assert.rejects(runner.run(['banger-no-such-binary']), /not found .*not installed/);
  const t0 = performance.now();
  await assert.rejects(runner.run(['sleep', '10'], { timeoutMs: 100 }), /timed out after 100 ms/);
  assert.ok(performance.now() - t0 < 3000);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(runner.run(['sleep', '10'], { signal: ac.signal }), /cancelled/);
  await assert.rejects(
    runner.run(['head', '-c', '100000', '/dev/zero'], { maxOutputBytes: 1000 }),
    /output exceeded 1000 bytes/,
  );
});

test('runner.pipe: producer streams into consumer, bytes counted, either failure throws', async () => {
  const r = new ExecHostRunner();
  const ok = await r.pipe(['head', '-c', '100000', '/dev/zero'], ['wc', '-c']);
  assert.equal(ok.consumer.stdout.trim(), '100000');
  assert.equal(ok.bytes, 100000);
  await assert.rejects(r.pipe(['sh', '-c', 'echo partial; exit 3'], ['cat']), /exit code 3/);
  await assert.rejects(
    r.pipe(['echo', 'x'], ['sh', '-c', 'cat >/dev/null; echo nope >&2; exit 4']),
    /exit code 4: nope/,
  );
  await assert.rejects(r.pipe(['sleep', '5'], ['cat'], { timeoutMs: 200 }), /timed out/);
});

test('which finds executables on PATH only', () => {
  assert.match(which('sh') ?? '', /\/sh$/);
  assert.equal(which('banger-no-such-binary'), null);
  assert.equal(which('/etc/passwd'), null);
});

test('supervisor: own session, log file, pid file, readiness', async () => {
  const d = mkdtempSync(join(tmpdir(), 'banger-sup-'));
  const sup = new ProcessSupervisor();
  const log = join(d, 'c.log');
  const pidFile = join(d, 'c.pid');
  const marker = join(d, 'ready');
  const p = sup.start({
    argv: ['sh', '-c', `echo started; sleep 0.2; touch ${marker}; exec sleep 30`],
    logFile: log,
    pidFile,
  });
  try {
    assert.equal(readPidFile(pidFile), p.pid);
    await sup.waitReady(p, log, async () => existsSync(marker), { timeoutMs: 5000, what: 'test child' });
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const [pgrp, session] = [Number(stat[2]), Number(stat[3])];
    assert.equal(session, p.pid, 'child leads its own session');
    assert.equal(pgrp, p.pid, 'and its own process group');
    assert.match(readFileSync(log, 'utf8'), /started/);
    // The marker is touched just before `exec sleep 30`; give the exec a moment under load.
    for (let i = 0; i < 200 && processCmdline(p.pid)?.[0] !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(processCmdline(p.pid), ['sleep', '30']);
  } finally {
    process.kill(p.pid, 'SIGKILL');
    await waitGone(p.pid);
    rmSync(d, { recursive: true, force: true });
  }
  assert.equal(isProcessAlive(p.pid), false);
});

test('a zombie main thread whose other threads still run is alive: they hold its descriptors', async () => {
  // A C program whose main thread exits (pthread_exit) while a second thread sleeps: the state a
  // killed multi-threaded process passes through, held open here.
  const dir = mkdtempSync(join(tmpdir(), 'bgr-threads-'));
  try {
    writeFileSync(
      join(dir, 'leader.c'),
      `#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *linger(void *arg) { (void)arg; sleep(30); return 0; }
int main(void) { pthread_t t; pthread_create(&t, 0, linger, 0); puts("up"); fflush(stdout); pthread_exit(0); }
`,
    );
    execFileSync('gcc', ['-pthread', '-o', join(dir, 'leader'), join(dir, 'leader.c')]);
    const child = spawn(join(dir, 'leader'), [], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((r) => child.stdout!.once('data', () => r()));
      for (let i = 0; i < 500 && processState(child.pid!) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(processState(child.pid!), 'Z', 'the main thread has exited');
      assert.equal(isProcessAlive(child.pid!), true, 'its other thread still runs');
      child.kill('SIGKILL');
      for (let i = 0; i < 500 && isProcessAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(isProcessAlive(child.pid!), false, 'killed, the whole process is gone');
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a zombie counts as exited', async () => {
  // perl forks a child that exits at once and never reaps it (a shell may reap on its own).
  const parent = spawn('perl', ['-e', '$| = 1; my $p = fork(); exit 0 if $p == 0; print "$p\\n"; sleep 30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const pid = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d) => r(String(d).trim()))));
    for (let i = 0; i < 500 && processState(pid) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(processState(pid), 'Z');
    assert.equal(isProcessAlive(pid), false);
    assert.equal(isProcessAlive(process.pid), true);
    assert.equal(processState(process.pid), 'R');
  } finally {
    parent.kill('SIGKILL');
  }
});

test('supervisor: readiness wait ends early with the log tail when the child exits', async () => {
  const d = mkdtempSync(join(tmpdir(), 'banger-sup-'));
  const sup = new ProcessSupervisor();
  const log = join(d, 'c.log');
  try {
    const p = sup.start({ argv: ['sh', '-c', 'echo "config broken: unknown key"; exit 7'], logFile: log });
    const t0 = performance.now();
    await assert.rejects(
      sup.waitReady(p, log, async () => false, { timeoutMs: 10_000, what: 'bangerd' }),
      (e: ChildExitedError) => {
        assert.ok(e instanceof ChildExitedError);
        assert.equal(e.exitCode, 7);
        assert.match(e.logTail, /config broken/);
        return true;
      },
    );
    assert.ok(performance.now() - t0 < 5000, 'did not wait for the timeout');
    const q = sup.start({ argv: ['sleep', '30'], logFile: log });
    await assert.rejects(
      sup.waitReady(q, log, async () => false, { timeoutMs: 150, what: 'sleeper' }),
      /not ready after/,
    );
    process.kill(q.pid, 'SIGKILL');
    await waitGone(q.pid);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a process is named by its executable, never by its main thread (Node 24 calls it MainThread)', async () => {
  assert.equal(processName(process.pid), basename(readlinkSync('/proc/self/exe')));
  const comm = readFileSync('/proc/self/comm', 'utf8').trim();
  if (comm !== basename(readlinkSync('/proc/self/exe'))) assert.notEqual(processName(process.pid), comm);
  const { spawn } = await import('node:child_process');
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    assert.equal(processName(child.pid!), basename(readlinkSync(`/proc/${child.pid}/exe`)));
    assert.match(processName(child.pid!)!, /sleep|coreutils/);
  } finally {
    child.kill('SIGKILL');
  }
  await waitGone(child.pid!);
  assert.equal(processName(child.pid!), null, 'a process that is gone has no name');
});
