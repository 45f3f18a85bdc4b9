export type { HostFacts, ToolFact } from './facts.js';
export { evaluateChecks, parseVersion, compareVersions, type CheckResult, type Status } from './checks.js';
export { gatherFacts, dmsetupReason, type GatherDeps } from './gatherFacts.js';
