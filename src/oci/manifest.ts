/**
 * Manifest documents of the OCI image spec and Docker's schema 2: what they may say, checked
 * before anything in them is used (digests sha256, sizes sane, media types known), and the
 * choice of one platform out of an image index / manifest list.
 */
import { parseJsonObject } from '../framing/index.js';
import { BangerError } from '../model/index.js';
import { digestProblem, type ImageRef } from './ref.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** The Accept header of a manifest request: every kind we can read, nothing else. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

/** Layer media types whose bytes we can unpack (decompression is the flattener's job). */
const LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface PlatformSpec {
  os: string;
  architecture: string;
}

export interface IndexEntry extends Descriptor {
  platform: (PlatformSpec & { variant?: string }) | null;
}

export type ManifestDoc =
  | { kind: 'index'; manifests: IndexEntry[] }
  | { kind: 'image'; config: Descriptor; layers: Descriptor[] };

const GIB = 1024 ** 3;
/**
 * Caps on what a manifest may ask us to download (compressed sizes, as declared): the spirit
 * of imagefs's DEFAULT_FLATTEN_LIMITS (16 GiB a layer, 32 GiB an image, uncompressed), which
 * could never flatten more; checked at resolve time, so a registry declaring a 1 PiB layer
 * cannot fill the disk before the flatten cap is reached.
 */
const MAX_LAYER_BYTES = 16 * GIB;
const MAX_IMAGE_BYTES = 32 * GIB;
const MAX_LAYERS = 256;

const unsupported = (ref: ImageRef, why: string, hint: string) =>
  new BangerError('bad_request', `${ref.text}: ${why}`, { hint });

/** A descriptor as found in a manifest, checked: sha256 digest, non-negative safe-integer size. */
function checkDescriptor(ref: ImageRef, v: unknown, where: string): Descriptor {
  const d = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof d.digest !== 'string' || typeof d.mediaType !== 'string' || typeof d.size !== 'number')
    throw unsupported(ref, `the manifest's ${where} is not a descriptor`, 'the registry served a malformed manifest');
  const problem = digestProblem(d.digest);
  if (problem)
    throw unsupported(
      ref,
      `the ${where} has digest ${JSON.stringify(d.digest)}: ${problem}`,
      'only sha256 content can be pulled',
    );
  if (!Number.isSafeInteger(d.size) || d.size < 0)
    throw unsupported(ref, `the ${where} has a bad size (${d.size})`, 'the registry served a malformed manifest');
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

/** Refuses a layer type we cannot or must not fetch, naming the layer. */
function checkLayer(ref: ImageRef, d: Descriptor): void {
  if (LAYER_MEDIA_TYPES.has(d.mediaType)) return;
  if (/nondistributable|foreign/.test(d.mediaType))
    throw unsupported(
      ref,
      `layer ${d.digest} is a non-distributable (foreign) layer (${d.mediaType}), which is not pulled`,
      'such layers (Windows base layers) live outside the registry; use a linux image built without them',
    );
  throw unsupported(
    ref,
    `layer ${d.digest} has media type ${d.mediaType}, which is not a tar layer (plain, gzip or zstd)`,
    'only container images can be pulled, not other OCI artifacts',
  );
}

/** Refuses more than MAX_LAYERS layers, a layer over MAX_LAYER_BYTES, or a sum over MAX_IMAGE_BYTES. */
function checkLayerSizes(ref: ImageRef, layers: Descriptor[]): void {
  const hint = 'banger pulls images of at most 256 layers, 16 GiB a layer and 32 GiB in all; pick a smaller image';
  if (layers.length > MAX_LAYERS)
    throw unsupported(ref, `the image has ${layers.length} layers, more than ${MAX_LAYERS}; refusing it`, hint);
  let total = 0;
  for (const l of layers) {
    if (l.size > MAX_LAYER_BYTES)
      throw unsupported(
        ref,
        `layer ${l.digest} is ${l.size} bytes, more than ${MAX_LAYER_BYTES} (16 GiB); refusing it`,
        hint,
      );
    total += l.size;
  }
  if (total > MAX_IMAGE_BYTES)
    throw unsupported(
      ref,
      `the layers sum to ${total} bytes, more than ${MAX_IMAGE_BYTES} (32 GiB); refusing it`,
      hint,
    );
}

function kindOf(doc: Record<string, unknown>, contentType: string | null): string {
  if (typeof doc.mediaType === 'string') return doc.mediaType;
  const ct = (contentType ?? '').split(';')[0]!.trim();
  if (ct && ct !== 'application/json' && ct !== 'application/octet-stream') return ct;
  return Array.isArray(doc.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
}

function parseIndexEntries(ref: ImageRef, list: unknown): IndexEntry[] {
  if (!Array.isArray(list))
    throw unsupported(ref, 'the image index has no manifests list', 'the registry served a malformed index');
  return list.map((m, i) => {
    const d = checkDescriptor(ref, m, `manifests[${i}]`);
    const p = (m as { platform?: Record<string, unknown> }).platform;
    const platform =
      p && typeof p.os === 'string' && typeof p.architecture === 'string'
        ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) }
        : null;
    return { ...d, platform };
  });
}

/**
 * Parses a manifest's bytes: an index/manifest list or an image manifest. Schema 1 and other
 * kinds are refused (bad_request) naming the ref.
 */
export function parseManifest(ref: ImageRef, bytes: Buffer, contentType: string | null): ManifestDoc {
  const doc = parseJsonObject(bytes.toString('utf8'));
  if (!doc)
    throw unsupported(
      ref,
      'the manifest is not valid JSON (not a JSON object)',
      'the registry served a malformed manifest',
    );
  const kind = kindOf(doc, contentType);
  if (doc.schemaVersion === 1 || /^application\/vnd\.docker\.distribution\.manifest\.v1\+/.test(kind))
    throw unsupported(
      ref,
      'the image uses the Docker schema 1 manifest format, which is unsupported',
      'push the image again with a current client (schema 2 or OCI)',
    );
  if (kind === MEDIA.ociIndex || kind === MEDIA.dockerList)
    return { kind: 'index', manifests: parseIndexEntries(ref, doc.manifests) };
  if (kind !== MEDIA.ociManifest && kind !== MEDIA.dockerManifest)
    throw unsupported(
      ref,
      `the manifest has media type ${kind}, which is not an image`,
      'only container images can be pulled',
    );
  const config = checkDescriptor(ref, doc.config, 'config');
  if (config.mediaType !== MEDIA.ociConfig && config.mediaType !== MEDIA.dockerConfig)
    throw unsupported(
      ref,
      `the config has media type ${config.mediaType}, so this is not a container image`,
      'only container images can be pulled, not other OCI artifacts',
    );
  if (!Array.isArray(doc.layers))
    throw unsupported(ref, 'the manifest has no layers list', 'the registry served a malformed manifest');
  const layers = doc.layers.map((l, i) => checkDescriptor(ref, l, `layers[${i}]`));
  for (const l of layers) checkLayer(ref, l);
  checkLayerSizes(ref, layers);
  return { kind: 'image', config, layers };
}

export const platformText = (p: { os: string; architecture: string; variant?: string }) =>
  `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

/**
 * The index entry for `want`: os and architecture equal (the variant is ignored: amd64 has
 * none that matters). Entries without a platform (attestations, `unknown/unknown`) never
 * match. Null when none does.
 */
export function selectPlatform(entries: IndexEntry[], want: PlatformSpec): IndexEntry | null {
  return entries.find((e) => e.platform?.os === want.os && e.platform.architecture === want.architecture) ?? null;
}

/** The "no image for this platform" error, listing the platforms the image has. */
export function wrongPlatform(ref: ImageRef, want: PlatformSpec, has: string[]): BangerError {
  const list = [...new Set(has)].filter((p) => p !== 'unknown/unknown');
  return new BangerError(
    'not_found',
    `${ref.text} has no ${platformText(want)} image (it has: ${list.length > 0 ? list.join(', ') : 'none'})`,
    { hint: `banger boots ${platformText(want)} guests; pick a tag or image built for that platform` },
  );
}
