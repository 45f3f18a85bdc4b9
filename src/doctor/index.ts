export type { HostFacts, ToolFact } from './facts.js';
export { evaluateChecks, type CheckResult, type Status } from './checks.js';
/** Re-exported: doctor's version checks use these (they live in model). */
export { parseVersion, compareVersions } from '../model/index.js';
export { gatherFacts, dmsetupReason, type GatherDeps } from './gatherFacts.js';
export {
  HOST_NEEDS,
  HOST_PIECES,
  judgePieces,
  missingPiecesError,
  piecesFor,
  probeHostPieces,
  type HostNeed,
  type HostPiece,
  type PiecesVerdict,
} from './hostPieces.js';
