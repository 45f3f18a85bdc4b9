/** What the install module's system commands run with: the host, the system layout, progress on stderr. */
import { systemLayout } from '../../../paths/index.js';
import { ExecHostRunner } from '../../../system/index.js';
import type { CliContext } from '../../context.js';

export function systemDeps(ctx: CliContext) {
  return { runner: new ExecHostRunner(), layout: systemLayout(), progress: (m: string) => ctx.output.err(`  ${m}\n`) };
}
