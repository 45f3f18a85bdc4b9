import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { describeSshFailure, sshArgv, type SshTarget } from '../guest/index.js';

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
export function runSsh(target: SshTarget, command: readonly string[], opts: { interactive?: boolean } = {}): Promise<{ code: number; error: Error | null }> {
  // A terminal for a shell (no command, or an interactive one such as a shell in the workspace).
  const argv = sshArgv(target, command, { tty: (command.length === 0 || !!opts.interactive) && !!process.stdin.isTTY });
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
    child.on('error', (e) => { process.off('SIGINT', ignore); resolve({ code: 255, error: e }); });
    child.on('close', (code, signal) => {
      process.off('SIGINT', ignore);
      // Like a shell: death by signal N is status 128 + N.
      const resolvedCode = code ?? (signal ? 128 + (osConstants.signals[signal] ?? 1) : 255);
      resolve({ code: resolvedCode, error: resolvedCode === 255 ? describeSshFailure(tail, target.alias) : null });
    });
  });
}
