/**
 * The pull's failures as users see them: each names the ref and says what to do next.
 */
import { BangerError } from '../model/index.js';
import { BLOCKED_CODE } from './netGuard.js';
import { type ImageRef, registryShown } from './ref.js';

const LOGIN_HINT =
  'if the image is private, log in with `docker login REGISTRY` (banger reads the `auths` of ~/.docker/config.json or $DOCKER_CONFIG/config.json); otherwise check the name';

/** Error codes a registry puts in its JSON error body (distribution spec, "Error Codes"). */
function registryErrorCodes(body: Buffer | null): string[] {
  if (!body) return [];
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown }> };
    return Array.isArray(doc.errors) ? doc.errors.map((e) => String(e?.code ?? '')).filter(Boolean) : [];
  } catch {
    return [];
  }
}

export function denied(ref: ImageRef, detail: string, usesHelper = false): BangerError {
  return new BangerError('unauthorized', `access to ${ref.text} was denied by ${registryShown(ref)} (${detail})`, {
    hint: usesHelper
      ? `${LOGIN_HINT}; credential helpers (credsStore/credHelpers) are not used: add an inline "auths" entry`
      : LOGIN_HINT,
  });
}

/**
 * An HTTP status that is not success, for `what` (e.g. "manifest", "blob sha256:…"), with the
 * registry's error codes: missing -> not_found, refused -> unauthorized, else operation_failed.
 */
export function statusError(ref: ImageRef, status: number, body: Buffer | null, what: string): BangerError {
  const codes = registryErrorCodes(body);
  const reg = registryShown(ref);
  const missing = ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'BLOB_UNKNOWN', 'NOT_FOUND'];
  if (status === 404 || codes.some((c) => missing.includes(c)))
    return new BangerError('not_found', `${ref.text}: ${reg} has no such ${what} (${codes[0] ?? `HTTP ${status}`})`, {
      hint: 'check the repository name and the tag or digest',
    });
  if (status === 401 || status === 403 || codes.includes('DENIED') || codes.includes('UNAUTHORIZED'))
    return denied(ref, codes[0] ?? `HTTP ${status}`);
  if (status === 429 || codes.includes('TOOMANYREQUESTS'))
    return new BangerError('operation_failed', `${ref.text}: ${reg} is rate-limiting pulls (HTTP ${status})`, {
      hint: 'wait and retry, or log in (`docker login`) for a higher limit',
    });
  return new BangerError(
    'operation_failed',
    `${ref.text}: ${reg} answered HTTP ${status} for the ${what}${codes.length ? ` (${codes.join(', ')})` : ''}`,
    {
      hint: 'retry later; if it persists the registry is failing',
    },
  );
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
]);
const NOT_TLS = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/** A failure below HTTP (connect, DNS, TLS, timeout, reset) talking to `host` for `ref`. */
export function networkError(ref: ImageRef, host: string, e: unknown): BangerError {
  if (e instanceof BangerError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return new BangerError('interrupted', `pulling ${ref.text}: cancelled`, { cause: e });
  const code = err?.code ?? '';
  if (code === BLOCKED_CODE)
    return new BangerError(
      'operation_failed',
      `${ref.text}: refusing to follow ${registryShown(ref)} to ${err.message}`,
      {
        hint: 'a remote registry may not send banger to this host (loopback) or link-local addresses; pull from the registry directly, or report it to its operator',
        cause: e,
      },
    );
  if (NOT_TLS.has(code) || /wrong version number|packet length too long/.test(err?.message ?? ''))
    return new BangerError('bad_request', `${ref.text}: ${host} does not speak https (${code || err.message})`, {
      hint: 'if it is a plain-http registry you trust, pass --insecure',
      cause: e,
    });
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))
    return new BangerError('operation_failed', `${ref.text}: the TLS certificate of ${host} is not trusted (${code})`, {
      hint: "add the registry's CA to the host's trust store (or NODE_EXTRA_CA_CERTS for banger's daemon)",
      cause: e,
    });
  return new BangerError(
    'operation_failed',
    `cannot reach registry ${host} for ${ref.text} (${code || err?.message || String(e)})`,
    {
      hint: UNREACHABLE.has(code)
        ? 'check that the registry is up and that this host can reach it (DNS, network, proxy)'
        : 'retry; if it persists check the network and the registry',
      cause: e,
    },
  );
}

/** Plain http to a registry that is not this host's loopback, without --insecure. */
export function needInsecure(ref: ImageRef, url: URL): BangerError {
  return new BangerError(
    'bad_request',
    `${ref.text}: refusing plain http to ${url.host} (${url.origin}), which is not a loopback registry`,
    {
      hint: 'pass --insecure to allow plain http to this registry (anyone on the path can then read and alter the traffic before verification)',
    },
  );
}

/** Bytes that do not hash to the digest they were asked by. */
export function digestMismatch(ref: ImageRef, what: string, want: string, got: string): BangerError {
  return new BangerError(
    'operation_failed',
    `${ref.text}: the ${what} ${want} does not match its content (got sha256:${got}); refusing it`,
    {
      hint: 'the registry or something on the way served corrupt or altered data; retry, and report it if it persists',
    },
  );
}

/** ENOSPC/EDQUOT while writing into the cache. */
export function noSpace(ref: ImageRef, dir: string, digest: string, e: unknown): BangerError {
  return new BangerError('operation_failed', `no space left in ${dir} while downloading ${digest} of ${ref.text}`, {
    hint: 'free disk space, or run `banger image cache prune` to drop blobs no image uses',
    cause: e,
  });
}
