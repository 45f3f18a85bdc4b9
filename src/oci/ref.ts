/**
 * OCI image references (the grammar of distribution's `reference` package, stricter where it
 * matters to us): `[REGISTRY/]REPOSITORY[:TAG][@sha256:HEX]`. A string with no '/', ':' or
 * '@' is not a reference at all: it keeps meaning a catalog name (`debian-bookworm`).
 */
import { BangerError } from '../model/index.js';

export interface ImageRef {
  /** The host[:port] contacted: Docker Hub ("docker.io") is contacted as registry-1.docker.io. */
  registry: string;
  /** The repository path, "library/" added for single-name Docker Hub repositories. */
  repository: string;
  tag: string | null;
  digest: string | null;
  /** The canonical form shown to users, e.g. "docker.io/library/debian:bookworm". */
  text: string;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const DOCKER_HUB_API = 'registry-1.docker.io';

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const DOMAIN_RE = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::([0-9]{1,5}))?$`);
const COMPONENT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** The only digest algorithm accepted anywhere in the pull (manifests, configs, layers). */
export const SHA256_DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const MAX_INPUT = 512;
const MAX_NAME = 255;

const HINT = 'write it as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. docker.io/library/debian:bookworm';

/** The input as it may appear in a message: quoted, escaped, cut short. */
function shown(input: string): string {
  const s = JSON.stringify(input.length > 100 ? `${input.slice(0, 100)}…` : input);
  return s;
}

function bad(input: string, why: string, hint = HINT): BangerError {
  return new BangerError('bad_request', `${shown(input)} is not a valid image reference: ${why}`, { hint });
}

/**
 * Checks a digest as written by a user or a registry: sha256 only, lowercase hex. Returns the
 * reason it is refused, or null when it is fine.
 */
export function digestProblem(digest: string): string | null {
  if (SHA256_DIGEST_RE.test(digest)) return null;
  const alg = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):/.exec(digest)?.[1];
  if (alg && alg !== 'sha256') return `digest algorithm "${alg}" is not supported (only sha256)`;
  return 'a digest is sha256: followed by 64 lowercase hex digits';
}

/** Splits `rest` into the part before the first '/' when that part names a registry. */
function splitDomain(rest: string): { domain: string; path: string } {
  const first = rest.indexOf('/');
  if (first < 0) return { domain: DOCKER_HUB, path: rest };
  const cand = rest.slice(0, first);
  const isDomain = cand.includes('.') || cand.includes(':') || cand === 'localhost' || /[A-Z]/.test(cand);
  return isDomain ? { domain: cand.toLowerCase(), path: rest.slice(first + 1) } : { domain: DOCKER_HUB, path: rest };
}

function checkDomain(input: string, domain: string): string {
  const m = DOMAIN_RE.exec(domain);
  if (!m) throw bad(input, `registry "${domain}" is not a host name or [IPv6] address with an optional port`);
  if (m[1] !== undefined) {
    const port = Number(m[1]);
    if (port < 1 || port > 65535) throw bad(input, `port ${m[1]} is out of range`);
  }
  return DOCKER_HUB_ALIASES.has(domain) ? DOCKER_HUB : domain;
}

function checkPath(input: string, path: string): void {
  if (path === '') throw bad(input, 'the repository name is empty');
  for (const c of path.split('/')) {
    if (c === '') throw bad(input, 'the repository name has an empty path component');
    if (COMPONENT_RE.test(c)) continue;
    if (/[A-Z]/.test(c)) throw bad(input, `repository names are lowercase ("${c}")`);
    throw bad(input, `"${c}" is not a valid repository path component`);
  }
}

/**
 * Parses `input` as an image reference. Returns null when it is not one (no '/', ':' or '@':
 * a catalog name). Throws BangerError('bad_request') with a hint when it looks like one but is
 * malformed. Without tag or digest the tag is "latest"; with both, the digest is what is pulled.
 */
export function parseImageRef(input: string): ImageRef | null {
  if (!/[/:@]/.test(input)) return null;
  if (input.length > MAX_INPUT) throw bad(input, `longer than ${MAX_INPUT} characters`);
  if (/[^\x21-\x7e]/.test(input)) throw bad(input, 'it contains spaces, control or non-ASCII characters');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input))
    throw bad(input, 'a reference has no URL scheme', 'drop the "http(s)://"; a plain-http registry needs --insecure');
  let rest = input;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) throw bad(input, problem);
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(input, `tag "${tag}" is not valid (letters, digits, _ . -, at most 128)`);
  }
  const split = splitDomain(rest);
  const domain = checkDomain(input, split.domain);
  let path = split.path;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  checkPath(input, path);
  if (domain.length + 1 + path.length > MAX_NAME) throw bad(input, `the name is longer than ${MAX_NAME} characters`);
  if (tag === null && digest === null) tag = 'latest';
  const text = `${domain}/${path}${tag === null ? '' : `:${tag}`}${digest === null ? '' : `@${digest}`}`;
  return { registry: domain === DOCKER_HUB ? DOCKER_HUB_API : domain, repository: path, tag, digest, text };
}

/** The host part of `registry` (host[:port] or [v6]:port), without brackets or port. */
function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  return registry.split(':')[0] ?? registry;
}

/**
 * Whether `registry` (host[:port]) is this machine's loopback: localhost, 127.0.0.0/8 or ::1.
 * Such a registry may be spoken to over plain http without --insecure (nothing crosses a network).
 */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostOf(registry.toLowerCase());
  if (host === 'localhost') return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
}

/** The registry part of a ref as users know it ("docker.io", not registry-1.docker.io). */
export function registryShown(ref: ImageRef): string {
  return ref.registry === DOCKER_HUB_API ? DOCKER_HUB : ref.registry;
}

/** Normalizes a docker-config `auths` key (a URL or host[:port]) to compare with a registry. */
export function normalizeRegistryKey(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}
