import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { VmmKind } from '../model/index.js';
import { readShape, shapeFileIn, type GuestShape } from './shape.js';
import type { TemplateInputs } from './templateKey.js';

/**
 * Warm templates on disk (docs/howto/snapshots.md): `<templatesDir>/<key>/` holds the frozen
 * root and work disks (read-only once made), `state/` (the VMM's saved memory and device
 * state plus its shape.json) and template.json, written last. A template is built in a
 * `.build-*` directory and renamed into place whole, so a directory with a key for a name is
 * complete, and anything else there is scratch a crash left.
 */
export const templateMetaSchema = z.object({
  version: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{16}$/),
  inputs: z.record(z.string(), z.unknown()),
  imageId: z.string(),
  imageName: z.string(),
  createdAt: z.string(),
  /** Bytes the template takes on disk (allocated, not apparent). */
  sizeBytes: z.number(),
  /** Whether the template's guest runs sshd (its clones then get a fresh host key and a reloaded sshd). */
  sshd: z.boolean(),
  /** How long the build took, boot to saved state. */
  buildMs: z.number(),
});
export type TemplateMeta = z.infer<typeof templateMetaSchema>;

const META = 'template.json';

export interface TemplatePaths {
  dir: string;
  meta: string;
  root: string;
  work: string;
  stateDir: string;
}

export interface Template {
  meta: TemplateMeta;
  shape: GuestShape;
  paths: TemplatePaths;
}

/** A template's root disk: a qcow2 layer on the image for QEMU, a raw copy for Firecracker (which boots raw disks only). */
export function rootFormatFor(vmm: VmmKind): GuestShape['rootFormat'] {
  return vmm === 'qemu' ? 'qcow2' : 'raw';
}

/** Paths of a template (or a template being built) in `dir`, for a root disk of `format`. */
export function templatePaths(dir: string, format: GuestShape['rootFormat']): TemplatePaths {
  return {
    dir,
    meta: join(dir, META),
    root: join(dir, format === 'qcow2' ? 'root.qcow2' : 'root.raw'),
    work: join(dir, 'work.ext4'),
    stateDir: join(dir, 'state'),
  };
}

/** Allocated bytes of the files under `dir` (one level of subdirectories: a template's layout). */
export function allocatedBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += allocatedBytes(p);
    else if (e.isFile()) total += statSync(p).blocks * 512;
  }
  return total;
}

export class TemplateStore {
  constructor(readonly dir: string) {}

  /**
   * The template of `key` when it is complete and sound; `{problem}` when a directory is
   * there but unusable (the caller discards it with a warning); null when there is none.
   */
  find(key: string): Template | { problem: string } | null {
    const dir = join(this.dir, key);
    if (!existsSync(dir)) return null;
    let meta: TemplateMeta;
    try {
      const r = templateMetaSchema.safeParse(JSON.parse(readFileSync(join(dir, META), 'utf8')));
      if (!r.success) return { problem: `template ${key}: template.json is malformed` };
      meta = r.data;
    } catch (e) {
      return { problem: `template ${key}: ${(e as Error).message}` };
    }
    if (meta.key !== key) return { problem: `template ${key}: template.json names key ${meta.key}` };
    const shape = readShape(shapeFileIn(join(dir, 'state')));
    if ('problem' in shape) return { problem: `template ${key}: ${shape.problem}` };
    const paths = templatePaths(dir, shape.rootFormat);
    for (const f of [paths.root, paths.work])
      if (!existsSync(f)) return { problem: `template ${key}: ${f} is missing` };
    return { meta, shape, paths };
  }

  /** Every complete template, for `image show` and prune. */
  list(): Template[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => /^[0-9a-f]{16}$/.test(n))
      .map((n) => this.find(n))
      .filter((t): t is Template => t !== null && !('problem' in t));
  }

  /** A fresh scratch directory to build a template of `key` in. */
  newBuildDir(key: string): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const dir = join(this.dir, `.build-${key}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Puts a finished build in place under its key: template.json written last, then the whole
   * directory renamed. False (and the build removed) when another build of the key won.
   */
  commit(buildDir: string, meta: TemplateMeta): boolean {
    writeFileSync(join(buildDir, META), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
    const target = join(this.dir, meta.key);
    if (existsSync(target)) {
      rmSync(buildDir, { recursive: true, force: true });
      return false;
    }
    renameSync(buildDir, target);
    return true;
  }

  /**
   * Removes the template of `key`. Nothing else depends on its files: a VM made from it
   * holds its own hard link to the frozen root, and clones of its work disk; a restore
   * reading its state right now keeps the open file.
   */
  discard(key: string): void {
    rmSync(join(this.dir, key), { recursive: true, force: true });
  }

  /**
   * Removes what is not a usable template: build scratch (`.build-*`, a build the daemon did
   * not finish; `building` names the directories of builds running now) and incomplete
   * templates; and, when `also` says so, complete ones. Returns the keys (or scratch names)
   * removed and the bytes freed (or that would be, with `dryRun`).
   */
  sweep(o: { building: Set<string>; also?: (t: Template) => boolean; dryRun?: boolean }): {
    removed: string[];
    freedBytes: number;
  } {
    const { building, also = () => false } = o;
    const removed: string[] = [];
    let freedBytes = 0;
    if (!existsSync(this.dir)) return { removed, freedBytes };
    for (const name of readdirSync(this.dir)) {
      const dir = join(this.dir, name);
      const isKey = /^[0-9a-f]{16}$/.test(name);
      if (building.has(dir)) continue;
      const t = isKey ? this.find(name) : null;
      const usable = t !== null && !('problem' in t);
      if (usable && !also(t)) continue;
      if (!isKey && !name.startsWith('.build-')) continue; // not ours
      freedBytes += safeAllocated(dir);
      if (!o.dryRun) rmSync(dir, { recursive: true, force: true });
      removed.push(name);
    }
    return { removed, freedBytes };
  }
}

function safeAllocated(dir: string): number {
  try {
    return allocatedBytes(dir);
  } catch {
    return 0;
  }
}

export type { TemplateInputs };
