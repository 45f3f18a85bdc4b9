/**
 * A terminal session through the guest agent (`vm ssh` on a guest without sshd, or with
 * `--agent`; docs/reference/agent.md "Terminal sessions"): the daemon's `vm.exec` with
 * `tty`. The local terminal is put in raw mode, so every key (Ctrl-C, Ctrl-D, Ctrl-Z
 * included) goes to the guest's pty, whose line discipline turns it into a signal for the
 * foreground job, as over ssh; the window size follows SIGWINCH. Raw mode is undone on
 * every way out (the session ending, an error, the process exiting or being signalled).
 * The exit status is the session's own.
 */
import { BangerError, commandExitStatus } from '../model/index.js';
import type { InputSender } from '../rpc/index.js';
import type { Outcome } from './commands/verb.js';
import type { CliContext } from './context.js';
import { asTransportLoss } from './guestCommand.js';

export interface PtySessionRequest {
  name: string;
  /** Empty: the guest's default shell (root's login shell, else /bin/sh, else busybox sh). */
  argv: string[];
}

/** The local terminal's size, as the agent takes it (24x80 when stdout is not a terminal). */
export function terminalSize(out: { rows?: number; columns?: number } = process.stdout): {
  rows: number;
  cols: number;
} {
  const ok = (n: number | undefined, d: number) => (Number.isInteger(n) && n! >= 1 && n! <= 10_000 ? n! : d);
  return { rows: ok(out.rows, 24), cols: ok(out.columns, 80) };
}

/** The TERM the guest gets: the local one when it is a plain name, else xterm. */
export function guestTerm(term: string | undefined): string {
  return term && /^[A-Za-z0-9._+-]{1,63}$/.test(term) ? term : 'xterm';
}

export async function runPtySession(ctx: CliContext, r: PtySessionRequest): Promise<Outcome> {
  const raw = new RawMode();
  const abort = new AbortController();
  let input: InputSender | null = null;
  const onResize = () => input?.send({ type: 'resize', ...terminalSize() });
  // A signal to banger itself ends the session (the daemon kills it when the connection closes).
  const onSignal = () => abort.abort();
  const signals = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;
  const onData = (chunk: Buffer) => {
    if (input && !input.settled) input.send({ type: 'stdin', data: chunk.toString('base64') });
  };
  try {
    raw.enter();
    for (const s of signals) process.on(s, onSignal);
    process.stdout.on('resize', onResize);
    const res = await ctx.daemon.call(
      'vm.exec',
      { name: r.name, argv: r.argv, stdin: true, tty: { ...terminalSize(), term: guestTerm(process.env.TERM) } },
      {
        signal: abort.signal,
        onOutput: (_stream, data) => process.stdout.write(data),
        onOpen: (sender) => {
          input = sender;
          process.stdin.on('data', onData);
          process.stdin.once('end', () => sender.send({ type: 'stdin', eof: true }));
        },
      },
    );
    return { guestStatus: commandExitStatus(res) };
  } catch (e) {
    if (abort.signal.aborted) return 'interrupted';
    if (e instanceof BangerError && e.code === 'bad_request' && /tty/.test(e.message))
      throw new BangerError('bad_request', `VM ${r.name}: ${e.message}`, {
        hint: 'this guest agent predates terminal sessions; use ssh (`banger vm ssh` without --agent)',
      });
    throw asTransportLoss(e, r.name, input !== null);
  } finally {
    raw.leave();
    for (const s of signals) process.off(s, onSignal);
    process.stdout.off('resize', onResize);
    process.stdin.off('data', onData);
    process.stdin.destroy();
  }
}

/** The local terminal in raw mode, and back, whatever ends the process. */
class RawMode {
  private on = false;
  private readonly restore = () => this.leave();

  enter(): void {
    if (!process.stdin.isTTY) return;
    process.stdin.setRawMode(true);
    this.on = true;
    process.once('exit', this.restore);
  }

  leave(): void {
    if (!this.on) return;
    this.on = false;
    process.off('exit', this.restore);
    try {
      process.stdin.setRawMode(false);
    } catch {
      /* the terminal is gone (hung up): nothing to restore */
    }
  }
}
