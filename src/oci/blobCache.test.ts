import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BangerError } from '../model/index.js';
import { digestMismatch, needInsecure, networkError, noSpace, statusError } from './errors.js';
import { formatBlobProgress, ProgressMeter, type BlobProgress } from './progress.js';
import { BlobCache } from './blobCache.js';
import { parseImageRef } from './ref.js';

const ref = parseImageRef('ghcr.io/org/img:1')!;
const errBody = (code: string) => Buffer.from(JSON.stringify({ errors: [{ code, message: 'x' }] }));

test('errors: registry statuses map to codes, each naming the ref with a hint', () => {
  const cases: Array<[number, Buffer | null, string]> = [
    [404, errBody('MANIFEST_UNKNOWN'), 'not_found'],
    [404, null, 'not_found'],
    [400, errBody('NAME_UNKNOWN'), 'not_found'],
    [401, errBody('UNAUTHORIZED'), 'unauthorized'],
    [403, null, 'unauthorized'],
    [400, errBody('DENIED'), 'unauthorized'],
    [429, null, 'operation_failed'],
    [503, Buffer.from('<html>'), 'operation_failed'],
  ];
  for (const [status, body, code] of cases) {
    const e = statusError(ref, status, body, 'manifest 1');
    assert.equal(e.code, code, `${status}`);
    assert.ok(e.message.includes(ref.text) && e.hint, e.message);
  }
  assert.match(statusError(ref, 401, null, 'x').hint ?? '', /docker login/);
});

test('errors: network, TLS, insecure, mismatch and ENOSPC failures', () => {
  const refused = networkError(
    ref,
    'ghcr.io',
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  );
  assert.equal(refused.code, 'operation_failed');
  assert.match(refused.message, /cannot reach registry ghcr\.io for ghcr\.io\/org\/img:1 \(ECONNREFUSED\)/);
  assert.equal(
    networkError(ref, 'h', Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' })).code,
    'bad_request',
  );
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  assert.equal(networkError(ref, 'h', abort).code, 'interrupted');
  const be = new BangerError('not_found', 'x');
  assert.equal(networkError(ref, 'h', be), be);
  const ins = needInsecure(ref, new URL('http://10.0.0.1:5000/v2/'));
  assert.equal(ins.code, 'bad_request');
  assert.match(ins.hint ?? '', /--insecure/);
  const mm = digestMismatch(ref, 'blob', `sha256:${'a'.repeat(64)}`, 'b'.repeat(64));
  assert.match(mm.message, new RegExp(`${ref.text}.*sha256:${'a'.repeat(64)}`));
  const ns = noSpace(ref, '/c', 'sha256:x', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }));
  assert.equal(ns.code, 'operation_failed');
  assert.match(ns.message, /no space left in \/c/);
});

test('ProgressMeter: throttled to one report per interval, plus a final one', () => {
  const seen: BlobProgress[] = [];
  const m = new ProgressMeter({ mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 1000 }, (p) => seen.push(p));
  for (let i = 1; i <= 1000; i++) m.update(i);
  m.finish();
  assert.ok(seen.length <= 3, `${seen.length} reports`);
  assert.deepEqual(
    { ...seen.at(-1), bytesPerSec: 0 },
    { digest: `sha256:${'a'.repeat(64)}`, doneBytes: 1000, totalBytes: 1000, bytesPerSec: 0, cached: false },
  );
  assert.equal(
    formatBlobProgress({
      digest: `sha256:${'a'.repeat(64)}`,
      doneBytes: 3 << 20,
      totalBytes: 10 << 20,
      bytesPerSec: 1536,
      cached: false,
    }),
    'sha256:aaaaaaaaaaaa  3.0 MiB / 10.0 MiB  1.5 KiB/s',
  );
  assert.match(
    formatBlobProgress({ digest: 'sha256:b', doneBytes: 5, totalBytes: 5, bytesPerSec: 0, cached: true }),
    /5 B {2}cached$/,
  );
});

test('BlobCache: only sha256 digests name paths; nothing outside blobs/sha256', () => {
  const c = new BlobCache('/cache');
  assert.equal(c.pathFor(`sha256:${'f'.repeat(64)}`), `/cache/blobs/sha256/${'f'.repeat(64)}`);
  for (const bad of ['sha256:../../x', `sha512:${'a'.repeat(128)}`, 'sha256:', `sha256:${'A'.repeat(64)}`])
    assert.throws(
      () => c.pathFor(bad),
      (e: BangerError) => e.code === 'bad_request',
    );
  assert.equal(c.has('sha256:../../etc/passwd'), false);
  assert.deepEqual(c.list(), []);
  assert.deepEqual(c.prune(new Set(), true), { removed: [], freedBytes: 0, removedPartials: 0 });
});

test('BlobCache.checkSpace: blobs that cannot fit fail before any download, naming dir, need and have', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-test-ocispace-'));
  try {
    const c = new BlobCache(dir);
    const small = { mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 1000 };
    await c.checkSpace(ref, [small]);
    const huge = { mediaType: 'x', digest: `sha256:${'b'.repeat(64)}`, size: 2 ** 55 };
    await assert.rejects(
      c.checkSpace(ref, [small, huge]),
      (e: BangerError) =>
        e.code === 'operation_failed' &&
        new RegExp(`^no space left in ${dir}: need 32768 TiB, have .*ghcr\\.io/org/img:1`).test(e.message) &&
        /prune/.test(e.hint ?? ''),
    );
    // A blob already cached at its size needs no room.
    writeFileSync(c.pathFor(huge.digest), 'x');
    await c.checkSpace(ref, [small, { ...huge, size: 1 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
