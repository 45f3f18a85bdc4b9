/**
 * Doctor's verdicts (docs/howto/troubleshooting.md): PASS/WARN/FAIL with a fix hint each, derived purely from
 * HostFacts. FAIL means banger cannot do its main job here; WARN means it works with a
 * reduced or slower path.
 *
 * The checks are data (as Lima's requirement lists are): CHECKS names each check, how it
 * judges the facts and, where one fix serves all its WARN and FAIL verdicts, that hint.
 * They are declared by area in checks/; evaluateChecks runs them in CHECKS order, which is the report's.
 */
import type { HostFacts } from './facts.js';
import { DEFAULTS_CHECKS } from './checks/defaults.js';
import { INSTALL_CHECKS } from './checks/install.js';
import { NETWORK_CHECKS } from './checks/network.js';
import { TOOL_CHECKS } from './checks/tools.js';
import type { Check, Status } from './checks/verdict.js';
import { VMM_CHECKS } from './checks/vmm.js';

export type { Check, Status, Verdict } from './checks/verdict.js';

export interface CheckResult {
  name: string;
  status: Status;
  message: string;
  hint?: string;
}

/** Every check, in the order doctor reports them. */
export const CHECKS: readonly Check[] = [
  ...VMM_CHECKS,
  ...NETWORK_CHECKS,
  ...TOOL_CHECKS,
  ...INSTALL_CHECKS,
  ...DEFAULTS_CHECKS,
];

/** One result per verdict, in CHECKS order. */
export function evaluateChecks(f: HostFacts): CheckResult[] {
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    const verdicts = check.evaluate(f) ?? [];
    for (const said of Array.isArray(verdicts) ? verdicts : [verdicts]) {
      const result: CheckResult = { name: said.name ?? check.name, status: said.status, message: said.message };
      const hint = said.hint ?? (said.status === 'PASS' ? undefined : check.hint);
      if (hint !== undefined) result.hint = hint;
      results.push(result);
    }
  }
  return results;
}
