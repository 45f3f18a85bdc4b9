import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { describeSshFailure, sshArgv, type SshTarget } from '../guest/index.js';
import { GUEST_READY_BUDGET_MS } from '../model/index.js';
import { sleep } from '../system/index.js';

/**
 * Runs ssh to a guest with the terminal attached and resolves with its exit status
 * (the guest command's status in command mode; 255 when ssh itself failed). stderr is
 * passed through and its tail kept, so a pinned-key mismatch can be named for what it is.
 *
 * Guest output here is deliberately not escaped (src/cli/terminalText.ts): `vm ssh`, `vm run`
 * and `vm exec` are the user's own session or command on their own terminal, exactly like
 * ssh, and a full-screen program or coloured output must work. The guest can drive the
 * terminal in such a session as much as any ssh server can. Only an error banger makes of
 * the stderr tail is escaped (reportError).
 */
export async function runSsh(
  target: SshTarget,
  command: readonly string[],
  opts: { interactive?: boolean } = {},
): Promise<{ code: number; error: Error | null }> {
  // A terminal for a shell (no command, or an interactive one such as a shell in the workspace).
  const argv = sshArgv(target, command, { tty: (command.length === 0 || !!opts.interactive) && !!process.stdin.isTTY });
  const deadline = Date.now() + GUEST_READY_BUDGET_MS;
  for (let attempt = 1; ; attempt++) {
    const r = await runOnce(argv, target);
    // ssh failed before the session began (no banner yet, or the connection dropped during
    // the key exchange): nothing ran in the guest, so trying again is safe, within the
    // readiness budget (a starved TCG guest may take long to send its banner).
    if (r.code !== 255 || !r.transport || Date.now() + SSH_RETRY_PAUSE_MS > deadline)
      return { code: r.code, error: r.error };
    process.stderr.write(
      `banger: ${target.alias} did not finish the ssh handshake; trying again (attempt ${attempt + 1})\n`,
    );
    await sleep(SSH_RETRY_PAUSE_MS);
  }
}

/** The pause between ssh attempts that failed before their session began. */
const SSH_RETRY_PAUSE_MS = 1_000;
/** Whether ssh's stderr says it failed before authentication (so before any command ran). */
export function isSshTransportFailure(stderr: string): boolean {
  return /Connection timed out during banner exchange|kex_exchange_identification|Connection reset by peer|Connection closed by \S+ port \d+\s*$/m.test(
    stderr,
  );
}

function runOnce(
  argv: readonly string[],
  target: SshTarget,
): Promise<{ code: number; error: Error | null; transport: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'inherit', 'pipe'] });
    let tail = '';
    child.stderr!.on('data', (d: Buffer) => {
      process.stderr.write(d);
      tail = (tail + d.toString('utf8')).slice(-4000);
    });
    // Ctrl-C belongs to the guest session while ssh runs.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.on('error', (e) => {
      process.off('SIGINT', ignore);
      resolve({ code: 255, error: e, transport: false });
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', ignore);
      // Like a shell: death by signal N is status 128 + N.
      const resolvedCode = code ?? (signal ? 128 + (osConstants.signals[signal] ?? 1) : 255);
      resolve({
        code: resolvedCode,
        error: resolvedCode === 255 ? describeSshFailure(tail, target.alias) : null,
        transport: isSshTransportFailure(tail),
      });
    });
  });
}
