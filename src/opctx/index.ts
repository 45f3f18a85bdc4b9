import type { Logger } from '../log/index.js';

/**
 * The operation a call belongs to, handed down from the RPC handler (or the daemon's own
 * lifecycle) through services, drivers and the privileged surface: its op_id (logged on
 * every line, by the root helper too), cancellation, progress for the client, and a logger.
 * Only `opId` is required; whatever a callee does not get, it does without.
 */
export interface OpCtx {
  opId: string;
  signal?: AbortSignal | undefined;
  progress?: ((stage: string, detail?: string) => void) | undefined;
  log?: Logger | undefined;
}
