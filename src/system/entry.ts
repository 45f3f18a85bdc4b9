import { asBangerError, type BangerError, exitCodeOf, exitReasonOf } from '../model/index.js';

/**
 * Runs a process entry point: its resolved number is the exit status; a thrown error is
 * reported by `report` (each program words it its own way) and exits with the code its
 * error code maps to in the exit table.
 */
export function runEntry(main: () => Promise<number>, report: (err: BangerError) => void): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      const err = asBangerError(e);
      report(err);
      process.exitCode = exitCodeOf(exitReasonOf(err.code));
    },
  );
}
