/**
 * Tool bootstrap for `vm run PATH` (docs/howto/workspaces.md), planned as a pure function: when the
 * repository declares tools for mise (`.mise.toml`, `mise.toml`, `.tool-versions`), the
 * guest runs `mise install` in the workspace, installing mise first from mise.run when the
 * image lacks it. Both need the outside, so without NAT the run is refused up front,
 * unless the user opts out with --no-bootstrap.
 */
export const BOOTSTRAP_LOG = '/root/.cache/banger/bootstrap.log';

export type ToolingPlan =
  | { kind: 'none' }
  | { kind: 'skipped'; files: string[] }
  | { kind: 'refuse'; message: string; hint: string }
  | { kind: 'install'; files: string[]; script: string; log: string };

export interface ToolingInput {
  /** The tool files present at the repository root. */
  toolFiles: readonly string[];
  nat: boolean;
  noBootstrap: boolean;
  guestPath: string;
}

export function planTooling(i: ToolingInput): ToolingPlan {
  if (i.toolFiles.length === 0) return { kind: 'none' };
  const files = [...i.toolFiles];
  if (i.noBootstrap) return { kind: 'skipped', files };
  if (!i.nat) {
    return {
      kind: 'refuse',
      message: `this repository declares tools (${files.join(', ')}), and installing them with mise needs outbound network, which this VM would not have`,
      hint: 'add --nat to let the VM reach the outside, or --no-bootstrap to skip installing the tools',
    };
  }
  const script = [
    'set -eu',
    `mkdir -p ${BOOTSTRAP_LOG.slice(0, BOOTSTRAP_LOG.lastIndexOf('/'))}`,
    `exec >${BOOTSTRAP_LOG} 2>&1`,
    `cd '${i.guestPath}'`,
    'export MISE_YES=1',
    'm=$(command -v mise || true)',
    'if [ -z "$m" ]; then curl -fsSL https://mise.run | sh; m="$HOME/.local/bin/mise"; fi',
    '"$m" trust --all',
    '"$m" install',
    '',
  ].join('\n');
  return { kind: 'install', files, script, log: BOOTSTRAP_LOG };
}
