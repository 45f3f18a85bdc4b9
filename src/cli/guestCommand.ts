/**
 * Command mode of `vm run -- CMD` and `vm exec` (docs/howto/vms.md): the command runs through
 * the guest agent (the daemon's `vm.exec`), not ssh. Its output is written as it arrives, raw,
 * as ssh would (see sshSession.ts on why guest output is not escaped here); stdin is forwarded
 * when it is not a terminal; the first Ctrl-C sends SIGINT to the command's process group, a
 * second one (or INTERRUPT_GRACE_MS later) SIGKILL, and banger then exits 130. The exit status
 * is the command's own; a failed connection is banger's `transport_failed`, never a status.
 */
import { BangerError, commandExitStatus } from '../model/index.js';
import { DaemonUnreachableError, type InputSender } from '../rpc/index.js';
import type { Outcome } from './commands/verb.js';
import type { CliContext } from './context.js';

/** How long a command may take to end after Ctrl-C's SIGINT before it gets SIGKILL. */
export const INTERRUPT_GRACE_MS = 5_000;

export interface GuestCommand {
  name: string;
  argv: string[];
  /** Absolute directory in the guest (the agent's default is /root). */
  cwd?: string | undefined;
}

export async function runGuestCommand(ctx: CliContext, c: GuestCommand): Promise<Outcome> {
  const forwardStdin = !process.stdin.isTTY;
  const abort = new AbortController();
  let input: InputSender | null = null;
  let interrupted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const kill = () => {
    input?.send({ type: 'signal', signal: 'KILL' });
    abort.abort();
  };
  const onSigint = () => {
    if (interrupted) return kill();
    interrupted = true;
    process.stderr.write('\nbanger: interrupted; stopping the command (Ctrl-C again to kill it)\n');
    input?.send({ type: 'signal', signal: 'INT' });
    killTimer = setTimeout(kill, INTERRUPT_GRACE_MS);
  };
  // With a listener of its own, the process entry leaves Ctrl-C to this command.
  process.on('SIGINT', onSigint);
  const stdin = forwardStdin ? new StdinPump() : null;
  try {
    const r = await ctx.daemon.call(
      'vm.exec',
      { name: c.name, argv: c.argv, ...(c.cwd !== undefined && { cwd: c.cwd }), stdin: forwardStdin },
      {
        signal: abort.signal,
        onOutput: (stream, data) => (stream === 'stdout' ? process.stdout : process.stderr).write(data),
        onOpen: (sender) => {
          input = sender;
          stdin?.start(sender);
        },
      },
    );
    return interrupted ? 'interrupted' : { guestStatus: commandExitStatus(r) };
  } catch (e) {
    if (interrupted) return 'interrupted';
    throw asTransportLoss(e, c.name, input !== null);
  } finally {
    clearTimeout(killTimer);
    process.off('SIGINT', onSigint);
    stdin?.stop();
  }
}

/**
 * bangerd's connection closing under a running command is a transport failure of the command,
 * not the daemon being unreachable (that one, before the request went out, still starts it).
 */
export function asTransportLoss(e: unknown, name: string, requestSent: boolean): unknown {
  if (!(e instanceof BangerError) || e.code !== 'daemon_unavailable' || e instanceof DaemonUnreachableError) return e;
  if (!requestSent) return e;
  return new BangerError(
    'transport_failed',
    `VM ${name}: lost the connection to bangerd while the command ran (${e.message}); the command did not complete and its status is unknown`,
    { hint: 'check `banger daemon status` and the daemon log' },
  );
}

/** The CLI's stdin to the daemon as `stdin` lines, paced by the socket, then `eof`. */
class StdinPump {
  private sender: InputSender | null = null;
  private readonly onData = (chunk: Buffer) => {
    const s = this.sender;
    if (!s || s.settled) return;
    if (!s.send({ type: 'stdin', data: chunk.toString('base64') })) {
      process.stdin.pause();
      s.onDrain(() => process.stdin.resume());
    }
  };
  private readonly onEnd = () => this.sender?.send({ type: 'stdin', eof: true });
  // A stdin that cannot be read (closed, a directory) is an empty one.
  private readonly onError = () => this.onEnd();

  start(sender: InputSender): void {
    this.sender = sender;
    process.stdin.on('data', this.onData);
    process.stdin.once('end', this.onEnd);
    process.stdin.once('error', this.onError);
  }

  stop(): void {
    process.stdin.off('data', this.onData);
    process.stdin.off('end', this.onEnd);
    process.stdin.off('error', this.onError);
    // Nothing more is read: an open pipe must not keep the process alive.
    process.stdin.destroy();
  }
}
