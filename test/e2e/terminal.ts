/**
 * `banger ARGS` on a pseudo-terminal made by script(1), as a user at a terminal runs it:
 * `input` is typed once the shell shows its prompt, never after a fixed wait (typed before
 * the shell reads its first line, input may be flushed as it sets up the terminal).
 */
import { spawn } from 'node:child_process';
import { distCli } from '../integration/harness.js';

export interface TerminalRun {
  code: number | null;
  out: string;
}

/** A shell prompt at the end of the output so far: `# ` or `$ `, then busybox sh's cursor-position query (ESC [6n). */
const PROMPT = /[#$] (\x1b\[6n)?$/;

export function inTerminal(
  env: NodeJS.ProcessEnv,
  args: string[],
  input: string,
  timeoutMs = 240_000,
): Promise<TerminalRun> {
  const cmd = [process.execPath, distCli, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...env, TERM: 'xterm' } });
  let out = '';
  let sent = false;
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    if (!sent && PROMPT.test(out)) {
      sent = true;
      child.stdin.write(input);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: banger ${args.join(' ')}${sent ? '' : ' (no prompt seen)'}\n${out}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
