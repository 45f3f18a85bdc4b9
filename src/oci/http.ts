/**
 * One HTTP GET to a registry, its token service or a blob store.
 *
 * node:http/https rather than the global fetch: the body is a Node Readable that a blob is
 * streamed from with backpressure straight into the cache file; network failures keep their
 * errno (ECONNREFUSED, ENOTFOUND, ENOSPC is ours alone) for the error mapping; redirects are
 * never followed here, so the caller alone decides where an Authorization header goes; and
 * the socket's idle timeout covers connect, headers and every pause in the body alike.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { blockedError, guardedLookup, isBlockedAddress } from './netGuard.js';

/** No byte for this long (connecting, waiting for headers, or mid-body) fails the request. */
export const IDLE_TIMEOUT_MS = 30_000;

interface GetOptions {
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
  /**
   * Refuse a target that is this host's loopback, unspecified or link-local address (netGuard):
   * set for every request whose target is not the registry the user named, unless that registry
   * is itself loopback. An IP literal is checked here, a name on every address at connect time.
   */
  guard?: boolean;
}

/**
 * Guarded requests get their own connection pools: a kept-alive socket that an unguarded
 * request (to a loopback registry the user named) opened is never reused for a guarded one.
 */
const GUARDED_AGENTS = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/** Errors of ours for a stalled socket carry this code (mapped like a refused connection). */
const IDLE_TIMEOUT_CODE = 'ETIMEDOUT';

/** Sends GET `url`; resolves with the response (any status; redirects not followed). */
export function httpGet(url: URL, opts: GetOptions): Promise<IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : http;
  const timeoutMs = opts.timeoutMs ?? IDLE_TIMEOUT_MS;
  if (opts.guard && isBlockedAddress(url.hostname)) return Promise.reject(blockedError(url.host, url.hostname));
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | null = null;
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers: opts.headers,
        signal: opts.signal,
        timeout: timeoutMs,
        ...(opts.guard
          ? {
              lookup: guardedLookup as never,
              agent: url.protocol === 'https:' ? GUARDED_AGENTS.https : GUARDED_AGENTS.http,
            }
          : {}),
      },
      (res) => {
        response = res;
        resolve(res);
      },
    );
    req.on('timeout', () => {
      const e = new Error(
        `no data for ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`,
      ) as NodeJS.ErrnoException;
      e.code = IDLE_TIMEOUT_CODE;
      // Mid-body, the reader of the response must see this error (not a bare "aborted").
      (response as IncomingMessage | null)?.destroy(e);
      req.destroy(e);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Discards a response's body so its socket can be reused (or closed). */
export function discard(res: IncomingMessage): void {
  res.resume();
  res.on('error', () => undefined);
}

/**
 * Reads a whole body of at most `cap` bytes. A declared or actual length past the cap destroys
 * the response and throws `tooBig()`: a registry cannot make us buffer without end.
 */
export async function readCapped(res: IncomingMessage, cap: number, tooBig: () => Error): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? Number.NaN);
  if (declared > cap) {
    res.destroy();
    throw tooBig();
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > cap) {
      res.destroy();
      throw tooBig();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A header's single value (the first when repeated). */
export function header(res: IncomingMessage, name: string): string | null {
  const v = res.headers[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v) ?? null;
}
