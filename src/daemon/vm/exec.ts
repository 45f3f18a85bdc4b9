/**
 * `vm.exec`: a command in a running guest through its agent's streamed exec
 * (docs/reference/agent.md), its output relayed to the client as it arrives, the client's
 * stdin, signals and (a terminal session's) window size relayed to it. A transport failure before the command started (no
 * `started` event) is retried within the readiness budget: the agent kills a streamed
 * command whose connection goes away, so nothing runs twice. After that it is
 * `transport_failed`: the command did not complete, and its status is unknown.
 */
import { AgentError, type AgentClient, type AgentExecResult, type AgentTty } from '../../agent/index.js';
import { BangerError, GUEST_READY_BUDGET_MS, type Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { FORWARDED_SIGNALS, type ClientMessage, type InputChannel } from '../../rpc/index.js';
import { sleep } from '../../system/index.js';
import type { VmEnv } from './env.js';

export interface VmExecRequest {
  name: string;
  argv: string[];
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  /** The client streams stdin (else the command's stdin is empty). */
  stdin: boolean;
  /** A terminal session (the agent's `tty`): stdin is open, `resize` lines set its size. */
  tty?: AgentTty | undefined;
}

export interface VmExecResult {
  exitCode: number;
  signal: number;
  durationMs: number;
}

/** The command's two-way stream with the client. */
export interface ExecIo {
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
  input: InputChannel;
}

/** Bytes of stdin the agent may hold unread before the relay waits (and so stops reading the client). */
const STDIN_HIGH_WATER = 1024 * 1024;
/** A client's stdin chunk is cut to this before it goes to the agent (its request lines are capped at 1 MiB). */
const STDIN_PIECE = 256 * 1024;

export async function execInVm(env: VmEnv, p: VmExecRequest, io: ExecIo, ctx: OpCtx): Promise<VmExecResult> {
  const vm = env.show(p.name);
  env.requireRunning(vm);
  env.touch(vm.id); // a command is a use (auto_stop_stale_after)
  const endpoint = env.driverOf(vm).agentEndpoint(env.files(vm));
  const deadline = Date.now() + GUEST_READY_BUDGET_MS;
  let lastError = '';
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal?.aborted) throw new BangerError('interrupted', 'cancelled before the command started');
    if (!env.isAlive(vm)) throw notStarted(vm, 'the VM stopped', lastError);
    if (Date.now() > deadline)
      throw notStarted(vm, `its agent did not answer within ${GUEST_READY_BUDGET_MS / 1000} s`, lastError);
    let client: AgentClient;
    try {
      client = await env.agents.client(endpoint, 2_000);
      // The agent answers at all (a starved guest may take its time): only then is the command sent.
      await client.health(Math.max(1_000, Math.min(15_000, deadline - Date.now())));
    } catch (e) {
      lastError = (e as Error).message;
      env.agents.drop(endpoint);
      await sleep(250);
      continue;
    }
    const outcome = await runOnce(client, p, io, ctx);
    if ('result' in outcome) return outcome.result;
    const notRun = cannotRun(outcome.error);
    if (notRun) {
      // As a shell reports it: 127 for a command that does not exist, 126 for one that cannot run.
      io.output('stderr', Buffer.from(`banger: ${notRun}\n`));
      return { exitCode: /No such file/.test(notRun) ? 127 : 126, signal: 0, durationMs: 0 };
    }
    if (outcome.started || !(outcome.error instanceof AgentError) || !isTransport(outcome.error))
      throw failure(vm, outcome.error, outcome.started);
    lastError = outcome.error.message;
    env.d.log.warn('vm.exec: the agent connection failed before the command started; retrying', {
      op_id: ctx.opId,
      vm: vm.name,
      attempt,
      error: lastError,
    });
    env.agents.drop(endpoint);
    await sleep(250);
  }
}

const isTransport = (e: AgentError) => e.code === 'transport' || e.code === 'timeout';
/** The agent's "cannot run PROGRAM: why", or null. */
const cannotRun = (e: unknown) =>
  e instanceof AgentError && e.code === 'exec_failed' && /^cannot run /.test(e.message) ? e.message : null;

/** One streamed exec on `client`: its result, or the error with whether the command had started. */
async function runOnce(
  client: AgentClient,
  p: VmExecRequest,
  io: ExecIo,
  ctx: OpCtx,
): Promise<{ result: VmExecResult } | { error: unknown; started: boolean }> {
  let started = false;
  const run = client.execStream(
    {
      argv: p.argv,
      ...(p.cwd !== undefined && { cwd: p.cwd }),
      ...(p.env !== undefined && { env: p.env }),
      ...((p.stdin || p.tty) && { stdin_open: true }),
      ...(p.tty && { tty: p.tty }),
    },
    (e) => {
      if (e.event !== 'started') return io.output(e.event, e.data);
      started = true;
      relayInput(client, run.job, io.input);
    },
  );
  // The client went away (or the daemon stops): the command is killed, as ssh's would be.
  const onAbort = () => void client.execSignal(run.job, FORWARDED_SIGNALS.KILL).catch(() => {});
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r: AgentExecResult = await run.done;
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    // The guest is untrusted: a status that is not numbers is not passed on as one.
    if (!Number.isInteger(r.exit_code) || !Number.isInteger(r.signal) || typeof r.duration_ms !== 'number')
      throw new AgentError('bad_response', 'the agent answered exec with a malformed status');
    // An agent from before streamed exec (an older image) ignores `stream` and answers with the output buffered.
    if (!started) {
      if (typeof r.stdout === 'string' && r.stdout) io.output('stdout', Buffer.from(r.stdout));
      if (typeof r.stderr === 'string' && r.stderr) io.output('stderr', Buffer.from(r.stderr));
    }
    return { result: { exitCode: r.exit_code, signal: r.signal, durationMs: r.duration_ms } };
  } catch (error) {
    return { error, started };
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
  }
}

/** The client's stdin and signals, in order, to the running command; reading pauses while the guest is behind. */
function relayInput(client: AgentClient, job: number, input: InputChannel): void {
  let chain = Promise.resolve();
  let stdinClosed = false;
  const forward = async (m: ClientMessage) => {
    if (m.type === 'signal') {
      await client.execSignal(job, FORWARDED_SIGNALS[m.signal]);
      return;
    }
    if (m.type === 'resize') {
      await client.execResize(job, m.rows, m.cols);
      return;
    }
    if (stdinClosed) return;
    const data = m.data ? Buffer.from(m.data, 'base64') : null;
    for (let off = 0; data && off < data.length; off += STDIN_PIECE) {
      let ack = await client.execInput(job, data.subarray(off, off + STDIN_PIECE));
      // The command reads slower than the client writes: hold the client until it catches up.
      while (!ack.closed && ack.buffered > STDIN_HIGH_WATER) {
        await sleep(20);
        ack = await client.execInput(job, null);
      }
      if (ack.closed) stdinClosed = true;
    }
    if (m.eof && !stdinClosed) await client.execInput(job, null, true);
  };
  // Lines already read from the client keep coming while it is paused; it resumes only once
  // every queued one is forwarded, so the daemon never holds more than one socket read of them.
  let queued = 0;
  input.listen((m) => {
    queued++;
    input.pause();
    chain = chain
      .then(() => forward(m))
      .catch(() => {
        /* the command has ended (or the connection is gone); the exec's own answer says which */
      })
      .finally(() => {
        if (--queued === 0) input.resume();
      });
  });
}

function notStarted(vm: Vm, why: string, lastError: string): BangerError {
  return new BangerError(
    'transport_failed',
    `VM ${vm.name}: the command did not run: ${why}${lastError ? ` (last error: ${lastError})` : ''}`,
    { hint: `see \`banger vm logs ${vm.name}\` for its console; \`banger vm ping ${vm.name}\` checks the agent` },
  );
}

/** An exec that failed for good: the agent refused it, or the connection was lost while it ran. */
function failure(vm: Vm, e: unknown, started: boolean): BangerError {
  if (e instanceof AgentError && e.code === 'exec_failed' && /^cannot change to/.test(e.message))
    return new BangerError('not_found', `VM ${vm.name}: ${e.message}`, {
      hint: 'give a directory that exists in the guest (`--guest-path`)',
    });
  if (e instanceof AgentError && e.code === 'exec_failed')
    return new BangerError('operation_failed', `VM ${vm.name}: ${e.message}`);
  if (e instanceof AgentError && e.code === 'busy')
    return new BangerError('conflict', `VM ${vm.name}: ${e.message}`, { hint: 'wait for a command to finish' });
  if (e instanceof AgentError && !isTransport(e))
    return new BangerError('operation_failed', `VM ${vm.name}: the agent refused the command: ${e.code}: ${e.message}`);
  const what = started ? 'was lost while the command ran' : 'failed before the command started';
  return new BangerError(
    'transport_failed',
    `VM ${vm.name}: the connection to its agent ${what}: ${(e as Error).message}; the command did not complete and its status is unknown`,
    { hint: `\`banger vm ping ${vm.name}\` checks the agent; \`banger vm logs ${vm.name}\` shows the console` },
  );
}
