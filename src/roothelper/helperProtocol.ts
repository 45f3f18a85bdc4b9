/**
 * The root helper's wire format : one request per connection, one JSON line each
 * way. The method names are the wire names of privops/surface.ts; `op_id` ties the helper's log line to the
 * daemon operation that asked.
 *   -> {"v":1,"op_id":"op-…","method":"priv.create_tap","params":{…}}
 *   <- {"ok":true,"result":…}  |  {"ok":false,"error":{"code":"bad_request","message":"…","hint":"…"}}
 */
export const HELPER_PROTOCOL_VERSION = 1;
/** Larger requests are refused (the biggest legitimate one is a small file for writeFileToImage). */
export const HELPER_MAX_REQUEST = 1024 * 1024;

export interface HelperRequest {
  v: number;
  op_id: string;
  method: string;
  params: unknown;
}

export type HelperResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string; hint?: string } };
