/**
 * What a doctor check is and says, and the small helpers every table of checks judges with.
 */
import type { HostFacts, ToolFact } from '../facts.js';

export type Status = 'PASS' | 'WARN' | 'FAIL';

/** What a check says; `name` only where one check yields several results (vm-defaults.vcpu, …). */
export interface Verdict {
  name?: string;
  status: Status;
  message: string;
  hint?: string;
}

export interface Check {
  name: string;
  /** The verdict(s) on these facts; null when the check does not apply to this host. */
  evaluate(f: HostFacts): Verdict | Verdict[] | null;
  /** The fix shown with a WARN or FAIL verdict that names none of its own. */
  hint?: string;
}

/** A version as dotted text: [1, 43] is "1.43". */
export const v = (xs: readonly number[]) => xs.join('.');
/** Whether a tool was found on the host. */
export const present = (t: ToolFact) => t.path !== null;
export const pass = (message: string): Verdict => ({ status: 'PASS', message });
const verdict =
  (status: Status) =>
  (message: string, hint?: string): Verdict =>
    hint === undefined ? { status, message } : { status, message, hint };
/** A WARN or FAIL verdict; without a hint of its own, the check's hint is shown. */
export const warn = verdict('WARN');
export const fail = verdict('FAIL');
