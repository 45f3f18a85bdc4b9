import { BangerError } from '../model/index.js';
import { PRIV_METHOD_NAMES, PRIV_METHODS, type PrivMethod, type PrivilegedOps } from './surface.js';

/** The first problem zod found, as "field: message". */
function firstIssue(error: {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string; keys?: readonly string[] }>;
}): string {
  const i = error.issues[0];
  if (!i) return 'invalid parameters';
  if (i.code === 'unrecognized_keys' && i.keys)
    return `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')} (root pins these values; a request cannot choose them)`;
  const where = i.path.map(String).join('.');
  return where ? `${where}: ${i.message}` : i.message;
}

/** Parses `params` for `method` against the declared surface, or throws bad_request naming the field. */
export function parsePrivParams<K extends PrivMethod>(method: K, params: unknown): unknown {
  const r = PRIV_METHODS[method].params.safeParse(params ?? {});
  if (!r.success) throw new BangerError('bad_request', `${PRIV_METHODS[method].wire}: ${firstIssue(r.error)}`);
  return r.data;
}

/**
 * `impl` behind the declared surface: every call's parameters are parsed (strictly) before
 * `impl` sees them, and its result is checked on the way out. The root helper's server and a
 * root daemon's in-process operations both go through this, so they validate alike.
 */
export function validatingOps(impl: PrivilegedOps): PrivilegedOps {
  const out: Partial<Record<PrivMethod, unknown>> = {};
  for (const method of PRIV_METHOD_NAMES) {
    const fn = impl[method] as (p: unknown, ctx: { opId: string }) => Promise<unknown>;
    out[method] = async (p: unknown, ctx: { opId: string }) => {
      const result = await fn.call(impl, parsePrivParams(method, p), ctx);
      const checked = PRIV_METHODS[method].result.safeParse(result ?? null);
      if (!checked.success)
        throw new BangerError(
          'operation_failed',
          `${PRIV_METHODS[method].wire} produced an unexpected result: ${firstIssue(checked.error)}`,
        );
      return checked.data;
    };
  }
  return out as PrivilegedOps;
}

/**
 * A PrivilegedOps whose every method is `call(method, params, ctx)`: the root helper's
 * client and the refusing stand-in of a daemon without root are both made this way.
 */
export function opsFrom(
  call: (method: PrivMethod, params: unknown, ctx: { opId: string }) => Promise<unknown>,
): PrivilegedOps {
  const out: Partial<Record<PrivMethod, unknown>> = {};
  for (const method of PRIV_METHOD_NAMES)
    out[method] = (p: unknown, ctx: { opId: string }) => call(method, p ?? {}, ctx);
  return out as PrivilegedOps;
}
