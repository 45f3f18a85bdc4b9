export type { HostFacts, ToolFact } from './facts.js';
export { evaluateChecks, parseVersion, compareVersions, type CheckResult, type Status } from './checks.js';
export { gatherFacts, type GatherDeps } from './gatherFacts.js';
