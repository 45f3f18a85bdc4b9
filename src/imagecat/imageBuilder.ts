import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { BangerError, GIB, MIB } from '../model/index.js';
import type { HostRunner } from '../system/index.js';
import type { ImageRecipe } from './recipe.js';

/**
 * Builds an image from a recipe: mmdebstrap from the host's apt sources into a scratch
 * tree, the recipe applied, then `mkfs.ext4 -d` makes rootfs.ext4 and the tree's /root
 * becomes work-seed.ext4. Needs root (mmdebstrap's root mode), as a system install's
 * helper or a root daemon has.
 */
export interface BuildImageInput {
  runner: HostRunner;
  recipe: ImageRecipe;
  /** Final directory of the image: <imagesDir>/<name>. Replaced atomically. */
  dest: string;
  scratchParent: string;
  /** The static guest agent binary to install (dist/agent/banger-agent). */
  agentBinary: string;
  progress?: (stage: string, detail?: string) => void;
  signal?: AbortSignal;
}

export interface BuiltImage {
  rootfsPath: string;
  workSeedPath: string | null;
  sizeBytes: number;
}

/** ext4 size for a tree: content x 1.5, at least 1 GiB, rounded up to a MiB (docs/howto/vms.md). */
export function ext4SizeFor(contentBytes: number): number {
  return Math.ceil(Math.max(GIB, contentBytes * 1.5) / MIB) * MIB;
}

export function applyRecipe(tree: string, recipe: ImageRecipe, agentBinary: string): void {
  const agent = join(tree, recipe.agentPath);
  mkdirSync(dirname(agent), { recursive: true });
  copyFileSync(agentBinary, agent);
  chmodSync(agent, 0o755);
  for (const { unit } of recipe.masked) {
    const link = join(tree, 'etc/systemd/system', unit);
    rmSync(link, { force: true });
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync('/dev/null', link);
  }
  for (const f of recipe.files) {
    const p = join(tree, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
    chmodSync(p, f.mode);
  }
  for (const s of recipe.symlinks) {
    const p = join(tree, s.path);
    mkdirSync(dirname(p), { recursive: true });
    rmSync(p, { force: true });
    symlinkSync(s.target, p);
  }
  for (const r of recipe.remove) rmSync(join(tree, r), { force: true });
  // mmdebstrap leaves an empty machine-id; systemd fills it on first boot of each VM.
  writeFileSync(join(tree, 'etc/machine-id'), '');
}

/**
 * Builds the image in a fresh scratch directory under `scratchParent` (removed whatever
 * happens) and moves it to `dest`, replacing what was there. Throws `unauthorized` when not
 * root and `not_found` when the agent binary is missing, before anything is built.
 */
export async function buildImage(i: BuildImageInput): Promise<BuiltImage> {
  requireBuildPrerequisites(i.agentBinary);
  mkdirSync(i.scratchParent, { recursive: true });
  const scratch = mkdtempSync(join(i.scratchParent, '.build-'));
  try {
    const tree = join(scratch, 'tree');
    await bootstrapTree(i, tree);
    i.progress?.('tuning', `${i.recipe.masked.length} units masked`);
    applyRecipe(tree, i.recipe, i.agentBinary);
    i.progress?.('mkfs', 'rootfs.ext4');
    const out = join(scratch, 'out');
    mkdirSync(out);
    const contentBytes = await makeFilesystems(i.runner, tree, out);
    rmSync(i.dest, { recursive: true, force: true });
    mkdirSync(dirname(i.dest), { recursive: true });
    renameSync(out, i.dest);
    return {
      rootfsPath: join(i.dest, 'rootfs.ext4'),
      workSeedPath: join(i.dest, 'work-seed.ext4'),
      sizeBytes: contentBytes,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Throws unless this process is root (mmdebstrap's root mode) and the guest agent binary exists. */
function requireBuildPrerequisites(agentBinary: string): void {
  if (process.getuid?.() !== 0) {
    throw new BangerError(
      'unauthorized',
      'building the default image needs root (mmdebstrap installs packages as root)',
      {
        hint: 'run banger as root, or install it system-wide with `sudo banger system install`',
      },
    );
  }
  if (!existsSync(agentBinary)) {
    throw new BangerError('not_found', `the guest agent binary is missing: ${agentBinary}`, {
      hint: 'build banger (npm run build), which compiles it with musl-gcc',
    });
  }
}

/** mmdebstrap of the recipe's suite, variant and packages into `tree` (30 minutes at most, abortable). */
async function bootstrapTree(i: BuildImageInput, tree: string): Promise<void> {
  i.progress?.('debootstrap', `${i.recipe.suite} ${i.recipe.variant} (${i.recipe.packages.length} packages)`);
  await i.runner.run(
    [
      'mmdebstrap',
      '--quiet',
      `--variant=${i.recipe.variant}`,
      `--include=${i.recipe.packages.join(',')}`,
      i.recipe.suite,
      tree,
    ],
    {
      timeoutMs: 1_800_000,
      signal: i.signal,
    },
  );
}

/**
 * Makes `out`/rootfs.ext4 from `tree` (sized by ext4SizeFor, then made read-only) and
 * `out`/work-seed.ext4 (64 MiB) from the tree's /root; returns the tree's apparent size in bytes.
 */
async function makeFilesystems(runner: HostRunner, tree: string, out: string): Promise<number> {
  const du = await runner.run(['du', '-sb', '--apparent-size', tree]);
  const contentBytes = Number(du.stdout.split(/\s/)[0]);
  const rootfs = join(out, 'rootfs.ext4');
  // lazy_itable_init keeps mkfs fast; the image is read-only and shared by every VM.
  await runner.run(
    [
      'mkfs.ext4',
      '-q',
      '-F',
      '-L',
      'banger-root',
      '-E',
      'lazy_itable_init=1,lazy_journal_init=1',
      '-d',
      tree,
      rootfs,
      `${ext4SizeFor(contentBytes) / MIB}M`,
    ],
    { timeoutMs: 600_000 },
  );
  const seed = join(out, 'work-seed.ext4');
  await runner.run([
    'mkfs.ext4',
    '-q',
    '-F',
    '-L',
    'banger-work',
    '-E',
    'root_owner=0:0',
    '-d',
    join(tree, 'root'),
    seed,
    '64M',
  ]);
  chmodSync(rootfs, 0o444);
  return contentBytes;
}
