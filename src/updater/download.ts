import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { BangerError } from '../model/index.js';

/** Size caps of docs/howto/system-install.md. */
export const CAPS = { manifest: 1 << 20, sums: 16 << 10, signature: 1 << 10, tarball: 256 << 20 } as const;

/** Redirects followed per download, each to the origin of the URL asked for only. */
export const MAX_REDIRECTS = 5;

const hostOf = (u: URL) => u.host || u.origin;

/**
 * Where a redirect from `from` (a hop of a download of `asked`) may go: `location` resolved
 * against `from`, if it has the origin (scheme, host, port) of `asked`. A release server is
 * trusted no further than the signing key, and a redirect to another host would widen that
 * to whatever that host serves (the signature still binds the bytes, but a manifest has no
 * signature, and another host is another party): refused, naming both hosts.
 */
export function redirectTarget(asked: string, from: string, location: string | null, what: string): string {
  if (!location)
    throw new BangerError('operation_failed', `fetching the ${what} from ${asked}: a redirect without a Location`);
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new BangerError('operation_failed', `fetching the ${what} from ${asked}: a redirect to a bad URL`);
  }
  const a = new URL(asked);
  if (to.origin !== a.origin) {
    throw new BangerError(
      'unauthorized',
      `the ${what} at ${asked} redirects to another host (${to.protocol}//${hostOf(to)}, not ${a.protocol}//${hostOf(a)}); refusing it`,
      {
        hint: 'a release server may only redirect within its own origin; publish the manifest URLs that serve the files directly',
      },
    );
  }
  return to.toString();
}

/**
 * Downloads `url` with a size cap, hashing while streaming (docs/howto/system-install.md). Redirects are followed
 * by hand (at most MAX_REDIRECTS, same origin only). With `file` the body is written to that
 * open file (the caller made it, and reads back from the same descriptor); otherwise it is
 * returned.
 */
export async function fetchCapped(
  url: string,
  cap: number,
  what: string,
  file?: FileHandle,
): Promise<{ data: Buffer | null; sha256: string; bytes: number }> {
  let res: Response | null = null;
  let at = url;
  for (let hop = 0; ; hop++) {
    try {
      res = await fetch(at, { redirect: 'manual' });
    } catch (e) {
      throw new BangerError(
        'operation_failed',
        `cannot fetch the ${what} from ${at}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`,
        { hint: 'check the network, or the manifest URL' },
      );
    }
    if (res.status < 300 || res.status >= 400 || res.status === 304) break;
    await res.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS)
      throw new BangerError(
        'operation_failed',
        `fetching the ${what} from ${url}: more than ${MAX_REDIRECTS} redirects`,
      );
    at = redirectTarget(url, at, res.headers.get('location'), what);
  }
  if (!res.ok || !res.body)
    throw new BangerError('operation_failed', `fetching the ${what} from ${at} failed: HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > cap) {
    await res.body.cancel().catch(() => undefined);
    throw new BangerError(
      'operation_failed',
      `the ${what} is ${declared} bytes, more than the ${cap} bytes allowed; refusing it`,
    );
  }
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let bytes = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > cap)
        throw new BangerError('operation_failed', `the ${what} is larger than the ${cap} bytes allowed; refusing it`);
      const b = Buffer.from(value);
      hash.update(b);
      if (file) {
        for (let off = 0; off < b.length; ) off += (await file.write(b, off, b.length - off)).bytesWritten;
      } else chunks.push(b);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  }
  return { data: file ? null : Buffer.concat(chunks), sha256: hash.digest('hex'), bytes };
}
