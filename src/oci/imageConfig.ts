/**
 * The image config blob (OCI image-spec config.md, same shape as Docker's): only what banger
 * needs to boot and describe the image. Unknown or mistyped fields read as absent.
 */
import { parseJsonObject } from '../framing/index.js';
import { BangerError } from '../model/index.js';
import type { ImageRef } from './ref.js';

export interface ImageConfigSummary {
  os: string;
  architecture: string;
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir: string | null;
  user: string | null;
}

const strings = (v: unknown): string[] | null =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : null;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Parses a config blob's (verified) bytes. */
export function parseImageConfig(ref: ImageRef, bytes: Buffer): ImageConfigSummary {
  const doc = parseJsonObject(bytes.toString('utf8'));
  if (!doc)
    throw new BangerError('bad_request', `${ref.text}: the image config is not valid JSON (not a JSON object)`, {
      hint: 'the registry served a malformed image config',
    });
  const c = (typeof doc.config === 'object' && doc.config !== null ? doc.config : {}) as Record<string, unknown>;
  return {
    os: str(doc.os) ?? '',
    architecture: str(doc.architecture) ?? '',
    env: strings(c.Env) ?? [],
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    workingDir: str(c.WorkingDir),
    user: str(c.User),
  };
}
