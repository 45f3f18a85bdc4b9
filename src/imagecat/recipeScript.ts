/**
 * The default image's recipe as one shell script that a running guest applies to itself:
 * how the image is made on a host without mmdebstrap or root (docs/howto/images.md). The
 * guest booted from an OCI base (debian:bookworm) with banger-init as PID 1; the script
 * installs the recipe's packages that are missing (with apt, through the VM's NAT), does
 * what `applyRecipe` does to a tree, and removes banger-init so that the image boots
 * systemd next time. File contents travel base64-encoded: nothing in them is shell.
 */
import type { ImageRecipe } from './recipe.js';

/** Where the OCI import put the agent and banger-init (src/ociimage/inject.ts). */
const INJECTED_DIR = '/.banger';

const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export interface RecipeScriptOptions {
  /** Prefix of every path the script writes (tests apply it to a scratch tree); '' in a guest. */
  root?: string;
}

export function renderRecipeScript(recipe: ImageRecipe, o: RecipeScriptOptions = {}): string {
  const root = o.root ?? '';
  const lines = [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ];
  if (recipe.packages.length) lines.push(...packageLines(recipe.packages));
  lines.push(`install -D -m 0755 ${q(`${root}${INJECTED_DIR}/agent`)} ${q(`${root}/${recipe.agentPath}`)}`);
  for (const { unit } of recipe.masked) {
    lines.push(
      `mkdir -p ${q(`${root}/etc/systemd/system`)}; ln -sfn /dev/null ${q(`${root}/etc/systemd/system/${unit}`)}`,
    );
  }
  for (const f of recipe.files) {
    const path = `${root}/${f.path}`;
    lines.push(
      `mkdir -p ${q(path.slice(0, path.lastIndexOf('/')))}`,
      `printf %s ${q(Buffer.from(f.content).toString('base64'))} | base64 -d > ${q(path)}`,
      `chmod ${f.mode.toString(8)} ${q(path)}`,
    );
  }
  for (const s of recipe.symlinks) {
    const path = `${root}/${s.path}`;
    lines.push(`mkdir -p ${q(path.slice(0, path.lastIndexOf('/')))}`, `ln -sfn ${q(s.target)} ${q(path)}`);
  }
  for (const r of recipe.remove) lines.push(`rm -f ${q(`${root}/${r}`)}`);
  lines.push(
    // Per-VM identity: systemd makes a machine-id at each VM's first boot.
    `: > ${q(`${root}/etc/machine-id`)}`,
    // banger-init goes: the image now boots systemd, with the agent as its unit.
    `rm -rf ${q(`${root}${INJECTED_DIR}`)}`,
    'sync',
    'echo "recipe: applied"',
  );
  return `${lines.join('\n')}\n`;
}

/** Installs the packages that are not installed yet (none: no network needed), then empties apt's caches. */
function packageLines(packages: readonly string[]): string[] {
  return [
    `missing=; for p in ${packages.join(' ')}; do`,
    `  dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"`,
    'done',
    'if [ -n "$missing" ]; then',
    '  echo "recipe: installing$missing"',
    '  apt-get update -qq',
    '  apt-get install -y -qq --no-install-recommends $missing',
    '  apt-get clean; rm -rf /var/lib/apt/lists/*',
    'fi',
  ];
}
