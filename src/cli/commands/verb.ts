/**
 * What every CLI verb shares. A verb's handler returns its outcome (a reason from the exit
 * table in model/exitCodes.ts, or the guest command's status in command mode) instead of
 * setting the process exit code; `act` records that outcome on the context, and the one
 * process entry (main.ts) maps it to the exit code.
 */
import type { Command } from 'commander';
import { exitCodeOf, type ExitReason } from '../../model/index.js';
import type { CliContext } from '../context.js';

/** The status of the guest command `vm run -- CMD`, `vm ssh NAME -- CMD` or `vm exec` ran. */
export interface GuestStatus {
  readonly guestStatus: number;
}

export type Outcome = ExitReason | GuestStatus;

/** The process exit code of an outcome: the table's code, or the guest command's own status. */
export function exitCodeFor(outcome: Outcome): number {
  return typeof outcome === 'string' ? exitCodeOf(outcome) : outcome.guestStatus;
}

/** A commander action that runs `handler` and records its outcome for the process entry. */
export function act<A extends unknown[]>(
  ctx: CliContext,
  handler: (...args: A) => Outcome | Promise<Outcome>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.outcome = await handler(...args);
  };
}

/** Whether the global --json flag is set. */
export function isJson(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals().json);
}

/**
 * The help text after a command's options: an optional note, then its examples under
 * "Example:" (one) or "Examples:" (several).
 */
export function examples(lines: readonly string[], note?: string): string {
  const head = note === undefined ? '' : `\n${note}\n`;
  return `${head}\n${lines.length === 1 ? 'Example' : 'Examples'}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}
