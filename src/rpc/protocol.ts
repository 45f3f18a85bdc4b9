/**
 * The wire protocol between `banger` and `bangerd` (docs/reference/rpc.md).
 *
 * One request per connection. The client writes one JSON line:
 *   {"v": 1, "method": "vm.list", "params": {}}
 * The server answers with zero or more progress lines and exactly one final line:
 *   {"type": "progress", "op_id": "op-…", "stage": "booting", "detail": "…"}
 *   {"type": "result",   "op_id": "op-…", "result": {…}}
 *   {"type": "error",    "op_id": "op-…", "error": {"code": "not_found", "message": "…", "hint": "…"}}
 * Closing the connection before the final line cancels the operation.
 */
import type { RpcErrorCode } from '../model/index.js';

export const PROTOCOL_VERSION = 1;

/** Requests larger than this are refused (bad_request) without being parsed. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** Responses larger than this are refused by the client. */
export const MAX_RESPONSE_LINE_BYTES = 64 * 1024 * 1024;

export interface RpcRequest {
  v: number;
  method: string;
  params?: unknown;
}

export interface WireError {
  code: RpcErrorCode;
  message: string;
  hint?: string;
}

export type ServerMessage =
  | { type: 'progress'; op_id: string; stage: string; detail?: string }
  | { type: 'result'; op_id: string; result: unknown }
  | { type: 'error'; op_id: string; error: WireError };

export interface ProgressEvent {
  opId: string;
  stage: string;
  detail?: string;
}
