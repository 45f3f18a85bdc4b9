/**
 * Brings an image's layers into the blob cache, three at a time, with one progress line
 * per layer (bytes and rate) at most every half second. Blobs already cached are not
 * fetched again; the cache shares a download between concurrent pulls of one layer.
 */
import { formatBytesIec } from '../model/index.js';
import type { BlobCache, BlobProgress, RegistryClient, ResolvedImage } from '../oci/index.js';

const PARALLEL_LAYERS = 3;

export async function fetchLayers(
  cache: BlobCache,
  client: RegistryClient,
  resolved: ResolvedImage,
  progress?: (stage: string, detail?: string) => void,
  signal?: AbortSignal,
): Promise<string[]> {
  await cache.checkSpace(resolved.ref, resolved.layers);
  const paths: string[] = new Array(resolved.layers.length);
  const count = resolved.layers.length;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const desc = resolved.layers[n]!;
      let last = 0;
      paths[n] = await cache.ensure(
        client,
        resolved.ref,
        desc,
        (p) => {
          const now = Date.now();
          if (p.doneBytes < p.totalBytes && !p.cached && now - last < 500) return;
          last = now;
          progress?.('layer', formatLayerProgress(n, count, p));
        },
        signal,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LAYERS, count) }, worker));
  return paths;
}

export function formatLayerProgress(n: number, count: number, p: BlobProgress): string {
  const id = `${n + 1}/${count} ${p.digest.replace(/^sha256:/, '').slice(0, 12)}`;
  if (p.cached) return `${id} cached (${formatBytesIec(p.totalBytes)})`;
  const rate = p.bytesPerSec > 0 ? `, ${formatBytesIec(p.bytesPerSec)}/s` : '';
  return `${id} ${formatBytesIec(p.doneBytes)}/${formatBytesIec(p.totalBytes)}${rate}`;
}
