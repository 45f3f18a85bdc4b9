/** Verbs that act on several VMs at once (`vm start a b`, `vm delete a b`, …). */
import type { CliContext } from '../../context.js';
import { escapeForTerminal } from '../../terminalText.js';
import type { Outcome } from '../verb.js';

/**
 * Runs `fn` for each name concurrently and prints what each success returns; reports every
 * failure and throws the last one (so the exit code is that error's).
 */
export async function forEachName(
  ctx: CliContext,
  names: readonly string[],
  fn: (name: string) => Promise<string>,
): Promise<Outcome> {
  const results = await Promise.allSettled(names.map(fn));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  results.forEach((r) => {
    if (r.status === 'fulfilled') ctx.output.out(`${r.value}\n`);
  });
  if (failures.length === 1) throw failures[0]!.reason;
  if (failures.length > 1) {
    for (const f of failures.slice(0, -1)) {
      ctx.output.err(`banger: ${escapeForTerminal((f.reason as Error).message)}\n`);
    }
    throw failures.at(-1)!.reason;
  }
  return 'ok';
}
