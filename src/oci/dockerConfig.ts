/**
 * Registry credentials from Docker's client config (`docker login` writes it):
 * `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. Only inline `auths` entries are
 * read: `{"auths": {"host:port": {"auth": base64("user:pass")}}}` or with `username` and
 * `password`. Credential helpers (`credsStore`, `credHelpers`) run programs and are not used;
 * when one is configured for a registry we have no inline entry for, the hint says so.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BangerError } from '../model/index.js';
import { normalizeRegistryKey } from './ref.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface DockerAuths {
  /** Credentials by normalized registry (host[:port]; Docker Hub as "docker.io"). */
  auths: Map<string, Credentials>;
  /** Whether the file names a credential helper (for the hint when access is denied). */
  usesHelper: boolean;
  path: string;
}

export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

function decodeEntry(v: unknown): Credentials | null {
  if (typeof v !== 'object' || v === null) return null;
  const e = v as Record<string, unknown>;
  if (typeof e.auth === 'string' && e.auth !== '') {
    const plain = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon <= 0) return null;
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '')
    return { username: e.username, password: e.password };
  return null;
}

/**
 * Parses a docker config's text. A file that is not JSON is an error naming it (a user who
 * wrote credentials there wants to know); entries without usable credentials are skipped.
 */
export function parseDockerConfig(text: string, path: string): DockerAuths {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BangerError('bad_request', `${path} is not valid JSON: ${(e as Error).message}`, {
      hint: 'fix the file, or run `docker login` again to rewrite it',
    });
  }
  const auths = new Map<string, Credentials>();
  const root = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  const raw = typeof root.auths === 'object' && root.auths !== null ? (root.auths as Record<string, unknown>) : {};
  for (const [key, v] of Object.entries(raw)) {
    const c = decodeEntry(v);
    const k = normalizeRegistryKey(key);
    if (c && !auths.has(k)) auths.set(k, c);
  }
  const usesHelper =
    typeof root.credsStore === 'string' ||
    (typeof root.credHelpers === 'object' && root.credHelpers !== null && Object.keys(root.credHelpers).length > 0);
  return { auths, usesHelper, path };
}

/** Reads the docker config at `path`; a missing file means no credentials. */
export function loadDockerConfig(path: string): DockerAuths {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { auths: new Map(), usesHelper: false, path };
    throw new BangerError('operation_failed', `cannot read ${path}: ${(e as Error).message}`, {
      hint: 'make the docker config readable by the user banger runs as, or point DOCKER_CONFIG elsewhere',
    });
  }
  return parseDockerConfig(text, path);
}

/** The credentials for `registry` (as contacted: registry-1.docker.io is Docker Hub). */
export function credentialsFor(cfg: DockerAuths, registry: string): Credentials | null {
  return cfg.auths.get(normalizeRegistryKey(registry)) ?? null;
}
