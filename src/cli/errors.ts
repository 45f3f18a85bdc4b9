import { BangerError, exitCodeOf, exitReasonOf } from '../model/index.js';
import { paint, type Output } from './output.js';
import { escapeForTerminal } from './terminalText.js';

/**
 * Prints an error as `banger: <message>`, then `hint: …` and `op_id: …` when known,
 * and returns the exit code from the one table in model/exitCodes.ts. Message and hint are
 * escaped: the daemon's errors can quote guest output (a failed export's stderr, the last
 * console lines of a VM that did not boot, the agent's own error text).
 */
export function reportError(o: Output, e: unknown): number {
  const err =
    e instanceof BangerError
      ? e
      : new BangerError('operation_failed', e instanceof Error ? e.message : String(e), {
          hint: 'this is unexpected; rerun with BANGER_LOG_LEVEL=debug and report it',
        });
  let text = `${paint(o, 'red', 'banger:')} ${escapeForTerminal(err.message)}\n`;
  if (err.hint) text += `${paint(o, 'dim', 'hint:')} ${escapeForTerminal(err.hint)}\n`;
  if (err.opId) text += `${paint(o, 'dim', 'op_id:')} ${escapeForTerminal(err.opId)}\n`;
  o.err(text);
  return exitCodeOf(exitReasonOf(err.code));
}

export function usageError(message: string, hint?: string): BangerError {
  return new BangerError('usage', message, hint === undefined ? {} : { hint });
}
