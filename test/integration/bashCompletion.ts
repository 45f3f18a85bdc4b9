/**
 * Shell completion driven through a real bash, shared by the integration and e2e tiers: a
 * `banger` on PATH for the sandbox, and the completion function called as bash calls it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distCli, type Sandbox } from './harness.js';

/** A `banger` on PATH that runs this build in the sandbox's environment. */
export function bangerOnPath(s: Sandbox): NodeJS.ProcessEnv {
  const bin = join(s.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'banger'), `#!/bin/sh\nexec '${process.execPath}' '${distCli}' "$@"\n`);
  chmodSync(join(bin, 'banger'), 0o755);
  return { ...s.env, PATH: `${bin}:${s.env.PATH}` };
}

/** Runs bash: source the script, then complete each line of words (the last word is the one being typed). */
export function complete(env: NodeJS.ProcessEnv, lines: string[][]): { spec: string; answers: string[] } {
  const calls = lines.map((ws) => `t ${ws.map((w) => `'${w}'`).join(' ')}`).join('\n');
  const script = `source <(banger completion bash) || exit 9
complete -p banger
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _banger; echo "=\${COMPREPLY[*]}"; }
${calls}
`;
  const out = execFileSync('bash', ['-c', script], { env, encoding: 'utf8', timeout: 60_000 });
  const [spec, ...answers] = out.trimEnd().split('\n');
  return { spec: spec!, answers: answers.map((a) => a.replace(/^=/, '')) };
}
