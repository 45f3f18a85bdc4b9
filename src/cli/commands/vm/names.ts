/**
 * Verbs that act on several VMs at once (`vm start a b`, `vm set a b --memory 2G`, …): every
 * VM is handled (concurrently) and gets its line, in the order the names were given; a
 * failure is reported and the others are still done; any failure makes the exit non-zero.
 */
import { BangerError, exitReasonOf } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { reportError } from '../../errors.js';
import type { Outcome } from '../verb.js';

/**
 * Runs `fn` for each name and prints, in argument order as soon as the earlier ones are
 * done, what each success returns (null: nothing) or each failure as `banger: NAME: …`.
 * With one name its error is thrown as it is; with several the outcome is the first
 * failure's exit reason.
 */
export async function forEachName(
  ctx: CliContext,
  names: readonly string[],
  fn: (name: string) => Promise<string | null>,
): Promise<Outcome> {
  if (names.length === 1) {
    const line = await fn(names[0]!);
    if (line !== null) ctx.output.out(`${line}\n`);
    return 'ok';
  }
  const settled: Array<PromiseSettledResult<string | null> | undefined> = names.map(() => undefined);
  let next = 0;
  let firstFailure: unknown;
  const flush = () => {
    for (; next < names.length && settled[next] !== undefined; next++) {
      const r = settled[next]!;
      if (r.status === 'fulfilled') {
        if (r.value !== null) ctx.output.out(`${r.value}\n`);
      } else {
        firstFailure ??= r.reason;
        reportError(ctx.output, prefixed(names[next]!, r.reason));
      }
    }
  };
  await Promise.all(
    names.map((name, i) =>
      fn(name).then(
        (value) => {
          settled[i] = { status: 'fulfilled', value };
          flush();
        },
        (reason: unknown) => {
          settled[i] = { status: 'rejected', reason };
          flush();
        },
      ),
    ),
  );
  if (firstFailure === undefined) return 'ok';
  return firstFailure instanceof BangerError ? exitReasonOf(firstFailure.code) : 'failure';
}

/** The error with the VM's name in front, so each line of a multi-VM verb says which VM failed. */
function prefixed(name: string, e: unknown): unknown {
  if (!(e instanceof BangerError)) return new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  const out = new BangerError(e.code, `${name}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
  out.opId = e.opId;
  return out;
}
