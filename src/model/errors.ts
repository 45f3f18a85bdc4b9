/**
 * Error codes that travel over RPC (docs/reference/rpc.md). Each maps to one exit reason so the CLI
 * can exit with a stable code whatever the daemon said.
 */
import type { ExitReason } from './exitCodes.js';

export const RPC_ERROR_CODES = {
  bad_request: 'usage',
  not_found: 'not_found',
  already_exists: 'conflict',
  not_running: 'not_running',
  conflict: 'conflict',
  unauthorized: 'unauthorized',
  unknown_method: 'protocol_mismatch',
  bad_version: 'protocol_mismatch',
  operation_failed: 'failure',
  transport_failed: 'transport_failed',
} as const satisfies Record<string, ExitReason>;

export type RpcErrorCode = keyof typeof RPC_ERROR_CODES;

/** Codes that never cross the wire: they arise in the process that reports them. */
export const LOCAL_ERROR_CODES = {
  usage: 'usage',
  config_invalid: 'config_invalid',
  daemon_unavailable: 'daemon_unavailable',
  interrupted: 'interrupted',
} as const satisfies Record<string, ExitReason>;

export type LocalErrorCode = keyof typeof LOCAL_ERROR_CODES;
export type ErrorCode = RpcErrorCode | LocalErrorCode;

export function isRpcErrorCode(code: string): code is RpcErrorCode {
  return Object.hasOwn(RPC_ERROR_CODES, code);
}

export function exitReasonOf(code: ErrorCode): ExitReason {
  return isRpcErrorCode(code) ? RPC_ERROR_CODES[code] : LOCAL_ERROR_CODES[code];
}

/**
 * The error every user-visible failure becomes: a stable code, a message that says what
 * went wrong, a hint that says what to do next, and the op_id of the daemon operation
 * when there was one.
 */
export class BangerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  opId: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; opId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BangerError';
    this.code = code;
    this.hint = options.hint;
    this.opId = options.opId;
  }
}

/** Any thrown value as a BangerError: itself, or an unexpected failure (operation_failed) with its message. */
export function asBangerError(e: unknown): BangerError {
  return e instanceof BangerError ? e : new BangerError('operation_failed', e instanceof Error ? e.message : String(e));
}
