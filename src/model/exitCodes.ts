/**
 * The one table of process exit codes (documented in docs/reference/exit-codes.md and
 * pinned by a test). `banger` maps every error to one of these; `bangerd` uses the same
 * numbers for its own startup failures. Command mode of `vm run`/`vm exec` passes the
 * guest command's status through instead.
 */
export const EXIT_CODES = {
  ok: { code: 0, meaning: 'success' },
  failure: { code: 1, meaning: 'the operation failed (operation_failed, or an unexpected error)' },
  usage: { code: 2, meaning: 'bad command line or invalid parameters (bad_request)' },
  not_found: { code: 3, meaning: 'the named VM, image, kernel or file does not exist (not_found)' },
  conflict: {
    code: 4,
    meaning: 'the thing already exists or is in a state that forbids this (already_exists, conflict)',
  },
  not_running: { code: 5, meaning: 'the VM must be running for this (not_running)' },
  daemon_unavailable: { code: 6, meaning: 'bangerd could not be reached or started' },
  config_invalid: { code: 7, meaning: 'the config file is invalid (unknown key, bad value, TOML syntax)' },
  unauthorized: { code: 8, meaning: 'permission denied (unauthorized, or root needed)' },
  protocol_mismatch: {
    code: 9,
    meaning: 'CLI and daemon speak different protocol versions (bad_version, unknown_method)',
  },
  doctor_failed: { code: 10, meaning: '`banger doctor` found at least one FAIL' },
  transport_failed: {
    code: 125,
    meaning:
      'command mode: the connection to the guest (its agent, or bangerd) failed, so the command did not complete and its status is unknown (transport_failed); never a status of the command itself',
  },
  interrupted: { code: 130, meaning: 'interrupted by Ctrl-C (SIGINT)' },
} as const;

export type ExitReason = keyof typeof EXIT_CODES;

export function exitCodeOf(reason: ExitReason): number {
  return EXIT_CODES[reason].code;
}

/** `bangerd --check-migrations` has its own documented 0/1/2 contract (docs/howto/vms.md). */
export const CHECK_MIGRATIONS_EXIT = {
  compatible: 0,
  migrations_needed: 1,
  incompatible: 2,
} as const;

/**
 * How long a guest may take to become ready after its VMM starts (TCG guests under load take
 * tens of seconds); transport retries before a command starts stay within it too.
 */
export const GUEST_READY_BUDGET_MS = 180_000;

/** A guest command's end as a process status, as a shell reports it: death by signal N is 128 + N. */
export function commandExitStatus(r: { exitCode: number; signal: number }): number {
  if (r.signal > 0) return 128 + r.signal;
  return r.exitCode >= 0 && r.exitCode <= 255 ? r.exitCode : 255;
}
