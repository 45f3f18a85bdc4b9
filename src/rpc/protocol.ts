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
 *
 * A method that runs a guest command (`vm.exec`) also sends its output before the final line,
 *   {"type": "output", "op_id": "op-…", "stream": "stdout", "data": "<base64>"}
 * and reads more lines from the client after its request (the client's input):
 *   {"type": "stdin", "data": "<base64>"}   {"type": "stdin", "eof": true}   {"type": "signal", "signal": "INT"}
 */
import { parseJsonObject } from '../framing/index.js';
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
  | { type: 'error'; op_id: string; error: WireError }
  | { type: 'output'; op_id: string; stream: 'stdout' | 'stderr'; data: string };

/** The signals a client may forward to a guest command. */
export const FORWARDED_SIGNALS = { HUP: 1, INT: 2, KILL: 9, TERM: 15 } as const;
export type ForwardedSignal = keyof typeof FORWARDED_SIGNALS;

/** A line the client sends after its request (only methods that read input look at them). */
export type ClientMessage =
  | { type: 'stdin'; data?: string; eof?: boolean }
  | { type: 'signal'; signal: ForwardedSignal }
  /** A terminal session's new window size (vm.exec with tty). */
  | { type: 'resize'; rows: number; cols: number };

/** A terminal dimension the agent accepts (rows and columns). */
const isTermSize = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 10_000;

/** Parses a client input line; null for anything that is not a ClientMessage. */
export function decodeClientMessage(line: string): ClientMessage | null {
  const m = parseJsonObject(line);
  if (!m) return null;
  if (m.type === 'stdin') {
    if (m.data !== undefined && typeof m.data !== 'string') return null;
    if (m.eof !== undefined && typeof m.eof !== 'boolean') return null;
    return {
      type: 'stdin',
      ...(m.data !== undefined && { data: m.data as string }),
      ...(m.eof !== undefined && { eof: m.eof as boolean }),
    };
  }
  if (m.type === 'resize' && isTermSize(m.rows) && isTermSize(m.cols))
    return { type: 'resize', rows: m.rows, cols: m.cols };
  if (m.type === 'signal' && typeof m.signal === 'string' && Object.hasOwn(FORWARDED_SIGNALS, m.signal))
    return { type: 'signal', signal: m.signal as ForwardedSignal };
  return null;
}

export interface ProgressEvent {
  opId: string;
  stage: string;
  detail?: string;
}
