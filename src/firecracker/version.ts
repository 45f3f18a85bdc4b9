import { compareVersions } from '../model/index.js';

/**
 * Firecracker versions (docs/howto/firecracker.md): `firecracker --version` prints "Firecracker v1.14.1"
 * (and more lines). Below 1.5.0 banger refuses; outside the tested range it warns.
 */
export const MIN_FIRECRACKER = [1, 5, 0] as const;
export const TESTED_FIRECRACKER = [1, 14, 1] as const;

export function parseFirecrackerVersion(output: string): [number, number, number] | null {
  const m = /Firecracker v(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

const show = (v: readonly number[]) => `v${v.join('.')}`;

export type VersionVerdict =
  | { ok: true; warning: string | null; version: string }
  | { ok: false; reason: string; hint: string };

export function judgeFirecrackerVersion(output: string): VersionVerdict {
  const v = parseFirecrackerVersion(output);
  if (!v)
    return {
      ok: false,
      reason: `cannot read a version from \`firecracker --version\` ("${output.trim().split('\n')[0] ?? ''}")`,
      hint: 'is firecracker_bin really Firecracker?',
    };
  if (compareVersions(v, MIN_FIRECRACKER) < 0)
    return {
      ok: false,
      reason: `Firecracker ${show(v)} is older than ${show(MIN_FIRECRACKER)}`,
      hint: `install Firecracker ${show(MIN_FIRECRACKER)} or newer (tested: ${show(TESTED_FIRECRACKER)})`,
    };
  // Patch releases of the tested minor are fine; a newer minor or major is outside the tested range.
  const warning =
    compareVersions(v.slice(0, 2), TESTED_FIRECRACKER.slice(0, 2)) > 0
      ? `Firecracker ${show(v)} is newer than the tested ${show(TESTED_FIRECRACKER)}`
      : null;
  return { ok: true, warning, version: show(v) };
}
