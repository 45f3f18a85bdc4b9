import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { BangerError } from '../model/index.js';

/**
 * Downloads `url` with a size cap, hashing while streaming (SPEC 9). With `dest` the body
 * goes to that file (deleted again on any failure); otherwise it is returned.
 */
export async function fetchCapped(url: string, cap: number, what: string, dest?: string): Promise<{ data: Buffer | null; sha256: string; bytes: number }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new BangerError('operation_failed', `cannot fetch the ${what} from ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`, { hint: 'check the network, or the manifest URL' });
  }
  if (!res.ok || !res.body) throw new BangerError('operation_failed', `fetching the ${what} from ${url} failed: HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > cap) {
    await res.body.cancel().catch(() => undefined);
    throw new BangerError('operation_failed', `the ${what} is ${declared} bytes, more than the ${cap} bytes allowed; refusing it`);
  }
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  const file = dest ? createWriteStream(dest, { mode: 0o600 }) : null;
  let bytes = 0;
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > cap) {
        await reader.cancel().catch(() => undefined);
        throw new BangerError('operation_failed', `the ${what} is larger than the ${cap} bytes allowed; refusing it`);
      }
      const b = Buffer.from(value);
      hash.update(b);
      if (file) { if (!file.write(b)) await new Promise<void>((r) => file.once('drain', () => r())); } else chunks.push(b);
    }
    if (file) await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
    return { data: file ? null : Buffer.concat(chunks), sha256: hash.digest('hex'), bytes };
  } catch (e) {
    file?.destroy();
    if (dest) rmSync(dest, { force: true });
    throw e;
  }
}
