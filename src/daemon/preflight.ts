/**
 * The daemon's host preflight (docs/howto/troubleshooting.md "Missing host pieces"): before
 * an operation downloads or builds anything, every host piece it will use is looked up at
 * once, from doctor's one table, and a host that lacks several hears of all of them with the
 * one apt command that installs them.
 */
import { judgePieces, missingPiecesError, piecesFor, probeHostPieces, type HostNeed } from '../doctor/index.js';

/** Throws the refusal naming every missing piece `needs` calls for; returns when all are there. */
export type HostPreflight = (needs: readonly HostNeed[], operation: string) => void;

/** The preflight of this daemon: its PATH, and qemu_bin when the config names one. */
export function hostPreflight(o: { pathEnv: string; qemuBin: string | null }): HostPreflight {
  return (needs, operation) => {
    const pieces = piecesFor(needs);
    const present = probeHostPieces(pieces, o.pathEnv, { 'qemu-system-x86_64': o.qemuBin });
    const refusal = missingPiecesError(operation, judgePieces(pieces, present));
    if (refusal) throw refusal;
  };
}
