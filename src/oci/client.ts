/**
 * The distribution v2 client: resolves a ref to one linux/amd64 image (manifest, config,
 * layers), every document verified by sha256 before it is parsed, and streams blobs.
 *
 * Transport: https, except plain http to a loopback registry (127.0.0.0/8, ::1, localhost)
 * or, with `insecure`, to any registry. Redirects are followed by hand (at most 5); the
 * Authorization header goes only to the origin it was obtained for, never to a blob store
 * on another host, and a 401 is answered only when the registry's own origin sent it. A remote
 * registry may not send us (redirect, token service) to this host's loopback or link-local
 * addresses, by any spelling or by a name resolving there (netGuard).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { BangerError } from '../model/index.js';
import { RegistryAuth } from './auth.js';
import { type DockerAuths, defaultDockerConfigPath, loadDockerConfig } from './dockerConfig.js';
import { digestMismatch, needInsecure, networkError, statusError } from './errors.js';
import { discard, header, httpGet, IDLE_TIMEOUT_MS, readCapped } from './http.js';
import { type ImageConfigSummary, parseImageConfig } from './imageConfig.js';
import {
  type Descriptor,
  MANIFEST_ACCEPT,
  type ManifestDoc,
  type PlatformSpec,
  parseManifest,
  platformText,
  selectPlatform,
  wrongPlatform,
} from './manifest.js';
import { isBlockedAddress } from './netGuard.js';
import { digestProblem, type ImageRef, isLoopbackRegistry, registryShown, SHA256_DIGEST_RE } from './ref.js';

/** Caps on documents read into memory (a registry cannot make us buffer without end). */
const MANIFEST_CAP = 4 << 20;
const CONFIG_CAP = 16 << 20;
const ERROR_BODY_CAP = 64 << 10;
const MAX_REDIRECTS = 5;
const DIGEST_HINT = 'only sha256 content can be pulled';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface RegistryClientOptions {
  /** Allow plain http to a registry that is not loopback (loopback always may). */
  insecure?: boolean;
  /** Default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string;
  /** Default linux/amd64. */
  platform?: PlatformSpec;
  userAgent?: string;
  /** Idle timeout per request (connect, headers, any pause in a body); default IDLE_TIMEOUT_MS (30 s). */
  timeoutMs?: number;
}

export interface ResolvedImage {
  ref: ImageRef;
  /** The digest of the image manifest pulled (the platform's, when the ref names an index). */
  manifestDigest: string;
  /** The digest of the index / manifest list the ref named, when it named one. */
  indexDigest: string | null;
  configDigest: string;
  config: ImageConfigSummary;
  /** Oldest first, media types checked (tar, tar+gzip, tar+zstd). */
  layers: Descriptor[];
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export class RegistryClient {
  private readonly insecure: boolean;
  private readonly platform: PlatformSpec;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly auth: RegistryAuth;
  private dockerAuths: DockerAuths | null = null;

  constructor(opts: RegistryClientOptions = {}) {
    this.insecure = opts.insecure ?? false;
    this.platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
    this.userAgent = opts.userAgent ?? 'banger';
    this.timeoutMs = opts.timeoutMs ?? IDLE_TIMEOUT_MS;
    const configPath = opts.dockerConfigPath ?? defaultDockerConfigPath();
    // Read on the first 401 only: a public pull never depends on the file.
    this.auth = new RegistryAuth(
      () => (this.dockerAuths ??= loadDockerConfig(configPath)),
      this.insecure,
      this.userAgent,
      this.timeoutMs,
    );
  }

  /** Resolves `ref` to one image for the client's platform, verified. */
  async resolve(ref: ImageRef, signal?: AbortSignal): Promise<ResolvedImage> {
    let m = await this.manifest(ref, ref.digest ?? ref.tag ?? 'latest', ref.digest, null, signal);
    let indexDigest: string | null = null;
    if (m.doc.kind === 'index') {
      const entries = m.doc.manifests;
      const entry = selectPlatform(entries, this.platform);
      if (!entry)
        throw wrongPlatform(
          ref,
          this.platform,
          entries.map((e) => (e.platform ? platformText(e.platform) : 'unknown/unknown')),
        );
      indexDigest = m.digest;
      m = await this.manifest(ref, entry.digest, entry.digest, entry.size, signal);
    }
    if (m.doc.kind !== 'image')
      throw new BangerError(
        'bad_request',
        `${ref.text}: the index for ${platformText(this.platform)} points at another index`,
        {
          hint: 'nested image indexes are not supported; pull the platform manifest by digest',
        },
      );
    const bytes = await this.smallBlob(ref, m.doc.config, CONFIG_CAP, signal);
    const config = parseImageConfig(ref, bytes);
    // A config that names another platform is refused; one that names none (malformed) is let through.
    if (
      (config.os || this.platform.os) !== this.platform.os ||
      (config.architecture || this.platform.architecture) !== this.platform.architecture
    )
      throw wrongPlatform(ref, this.platform, [`${config.os || '?'}/${config.architecture || '?'}`]);
    return {
      ref,
      manifestDigest: m.digest,
      indexDigest,
      configDigest: m.doc.config.digest,
      config,
      layers: m.doc.layers,
    };
  }

  /**
   * Streams a blob's bytes. The caller verifies the digest (BlobCache does); a declared length
   * over the descriptor's size is refused here already. Consume it at once (for await, or a
   * pipeline): a stall past the idle timeout destroys it with an error.
   */
  async openBlob(ref: ImageRef, desc: Descriptor, signal?: AbortSignal): Promise<Readable> {
    const problem = digestProblem(desc.digest);
    if (problem)
      throw new BangerError('bad_request', `${ref.text}: blob ${desc.digest}: ${problem}`, { hint: DIGEST_HINT });
    const res = await this.get(ref, `blobs/${desc.digest}`, '*/*', `blob ${desc.digest}`, signal);
    if (res.statusCode !== 200) throw await this.failure(ref, res, `blob ${desc.digest}`);
    const declared = Number(header(res, 'content-length') ?? Number.NaN);
    if (declared > desc.size) {
      res.destroy();
      throw new BangerError(
        'operation_failed',
        `${ref.text}: blob ${desc.digest} is ${declared} bytes, more than the ${desc.size} its manifest says; refusing it`,
        { hint: 'the registry served something else than the manifest describes' },
      );
    }
    return res;
  }

  private baseUrl(ref: ImageRef): URL {
    const plain = this.insecure || isLoopbackRegistry(ref.registry);
    return new URL(`${plain ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}/`);
  }

  /** Fetches and verifies one manifest (by digest when `want` is given, else by the bytes' own hash). */
  private async manifest(
    ref: ImageRef,
    reference: string,
    want: string | null,
    size: number | null,
    signal?: AbortSignal,
  ): Promise<{ doc: ManifestDoc; digest: string }> {
    const what = `manifest ${reference}`;
    const tooBig = () =>
      new BangerError(
        'operation_failed',
        `${ref.text}: the ${what} is larger than ${MANIFEST_CAP} bytes; refusing it`,
        {
          hint: 'no image manifest is that large; the registry is misbehaving or hostile',
        },
      );
    if (size !== null && size > MANIFEST_CAP) throw tooBig();
    const res = await this.get(ref, `manifests/${reference}`, MANIFEST_ACCEPT, what, signal);
    if (res.statusCode !== 200) throw await this.failure(ref, res, what);
    const bytes = await this.read(
      ref,
      res,
      size ?? MANIFEST_CAP,
      size === null ? tooBig : () => this.longer(ref, what, size),
    );
    const got = sha256(bytes);
    // Asked by tag, the registry's Docker-Content-Digest (when sha256) must agree; ours is kept.
    const claimed = want ?? header(res, 'docker-content-digest');
    if (claimed !== null && SHA256_DIGEST_RE.test(claimed) && claimed !== `sha256:${got}`)
      throw digestMismatch(ref, 'manifest', claimed, got);
    if (size !== null && bytes.length !== size) throw this.shorter(ref, what, bytes.length, size);
    return { doc: parseManifest(ref, bytes, header(res, 'content-type')), digest: `sha256:${got}` };
  }

  /** A blob read into memory (the config), capped, size and digest verified. */
  private async smallBlob(ref: ImageRef, desc: Descriptor, cap: number, signal?: AbortSignal): Promise<Buffer> {
    if (desc.size > cap)
      throw new BangerError(
        'bad_request',
        `${ref.text}: the image config is ${desc.size} bytes, more than ${cap}; refusing it`,
        {
          hint: 'no container image config is that large; the image is malformed or hostile',
        },
      );
    const res = await this.openBlob(ref, desc, signal);
    const bytes = await this.read(ref, res as IncomingMessage, desc.size, () =>
      this.longer(ref, `blob ${desc.digest}`, desc.size),
    );
    if (bytes.length !== desc.size) throw this.shorter(ref, `blob ${desc.digest}`, bytes.length, desc.size);
    const got = sha256(bytes);
    if (`sha256:${got}` !== desc.digest) throw digestMismatch(ref, 'blob', desc.digest, got);
    return bytes;
  }

  private async read(ref: ImageRef, res: IncomingMessage, cap: number, tooBig: () => Error): Promise<Buffer> {
    try {
      return await readCapped(res, cap, tooBig);
    } catch (e) {
      throw e instanceof BangerError ? e : networkError(ref, ref.registry, e);
    }
  }

  private longer(ref: ImageRef, what: string, size: number): BangerError {
    return new BangerError(
      'operation_failed',
      `${ref.text}: the ${what} is longer than the ${size} bytes its descriptor says; refusing it`,
      {
        hint: 'the registry served something else than the manifest describes',
      },
    );
  }

  private shorter(ref: ImageRef, what: string, got: number, size: number): BangerError {
    return new BangerError(
      'operation_failed',
      `${ref.text}: the ${what} is ${got} bytes, not the ${size} its descriptor says; refusing it`,
      {
        hint: 'the registry served something else than the manifest describes',
      },
    );
  }

  private async failure(ref: ImageRef, res: IncomingMessage, what: string): Promise<BangerError> {
    const body = await readCapped(res, ERROR_BODY_CAP, () => new Error('long error body')).catch(() => null);
    return statusError(ref, res.statusCode ?? 0, body, what);
  }

  /**
   * GET under the repository's /v2/ path, answering at most one auth challenge, and only the
   * registry's own: a 401 from another origin (a blob store it redirected to) is an error, so
   * the registry's credentials never go to a token service a blob store names.
   */
  private async get(
    ref: ImageRef,
    path: string,
    accept: string,
    what: string,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const url = new URL(path, this.baseUrl(ref));
    for (let attempt = 0; ; attempt++) {
      const authz = this.auth.headerFor(ref);
      const { res, at } = await this.follow(ref, url, accept, authz, signal);
      if (res.statusCode !== 401) return res;
      if (at.origin !== url.origin) {
        discard(res);
        throw new BangerError(
          'operation_failed',
          `${ref.text}: ${at.host}, where ${registryShown(ref)} redirected the ${what}, refused it (HTTP 401)`,
          {
            hint: 'the registry sent banger to a store that wants a login of its own; retry, and report it to the registry operator if it persists',
          },
        );
      }
      if (attempt > 0) throw await this.failure(ref, res, what);
      const challenge = res.headers['www-authenticate'];
      discard(res);
      if (authz) this.auth.forget(ref);
      await this.auth.answer(ref, challenge, url.origin, signal);
    }
  }

  /**
   * Follows redirects from `url` (the registry's origin). Unless the registry is loopback, every
   * hop elsewhere is guarded: it may not reach this host's loopback or link-local addresses.
   */
  private async follow(
    ref: ImageRef,
    url: URL,
    accept: string,
    authz: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ res: IncomingMessage; at: URL }> {
    const remote = !isLoopbackRegistry(ref.registry);
    let at = url;
    for (let hop = 0; ; hop++) {
      if (at.protocol === 'http:' && !this.insecure && !isLoopbackRegistry(at.host)) throw needInsecure(ref, at);
      const headers: Record<string, string> = { 'user-agent': this.userAgent, accept };
      if (authz && at.origin === url.origin) headers.authorization = authz;
      const guard = remote && at.origin !== url.origin;
      let res: IncomingMessage;
      try {
        res = await httpGet(at, { headers, signal, timeoutMs: this.timeoutMs, guard });
      } catch (e) {
        throw networkError(ref, at.host, e);
      }
      if (!REDIRECTS.has(res.statusCode ?? 0)) return { res, at };
      discard(res);
      at = this.redirect(ref, url, at, header(res, 'location'), hop);
    }
  }

  private redirect(ref: ImageRef, first: URL, from: URL, location: string | null, hop: number): URL {
    const fail = (why: string) =>
      new BangerError('operation_failed', `${ref.text}: ${from.host} redirected badly (${why})`, {
        hint: 'the registry or a proxy in front of it is misconfigured',
      });
    if (hop >= MAX_REDIRECTS) throw fail(`more than ${MAX_REDIRECTS} redirects`);
    if (!location) throw fail('no Location');
    let to: URL;
    try {
      to = new URL(location, from);
    } catch {
      throw fail('Location is not a URL');
    }
    if (to.protocol !== 'https:' && to.protocol !== 'http:') throw fail(`to ${to.protocol}`);
    // A quick, clear refusal for an IP literal; names are checked when connecting (netGuard).
    if (!isLoopbackRegistry(first.host) && to.origin !== first.origin && isBlockedAddress(to.hostname))
      throw fail(`to this host's own or link-local address ${to.host}`);
    return to;
  }
}
