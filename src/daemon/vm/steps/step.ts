import type { OpCtx } from '../../../opctx/index.js';
import type { CleanupStack } from '../../cleanupStack.js';

/**
 * One named step of a multi-step VM operation (create, start). A step does one thing,
 * records what later steps need in `state`, and pushes the undo of what it made onto
 * `undo`; the operation unwinds that stack, newest first, when any later step fails.
 * Adding a step is writing one of these and putting it in the list.
 */
export interface Step<S> {
  readonly name: string;
  run(state: S, ctx: OpCtx, undo: CleanupStack): Promise<void>;
}

/**
 * Runs the steps in order; the first failure propagates (the caller unwinds `undo`).
 * Returns how long each step took, in ms, for the operation's log line.
 */
export async function runSteps<S>(
  steps: readonly Step<S>[],
  state: S,
  ctx: OpCtx,
  undo: CleanupStack,
): Promise<Record<string, number>> {
  const ms: Record<string, number> = {};
  for (const step of steps) {
    const t0 = performance.now();
    await step.run(state, ctx, undo);
    ms[step.name] = Math.round(performance.now() - t0);
  }
  return ms;
}

/** A value an earlier step was to put in the state; its absence is a wrongly ordered step list. */
export function need<T>(value: T | undefined, what: string, step: string): T {
  if (value === undefined) throw new Error(`step ${step} runs before ${what} is known (check the step list's order)`);
  return value;
}
