/** Version numbers as printed by tools ("mke2fs 1.47.0", "Firecracker v1.14.1", "v0.2.0"). */

/** The first "x.y[.z]" in a text, as numbers; null when there is none. */
export function parseVersion(text: string | null): number[] | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** -1, 0 or 1; missing trailing parts count as 0 (1.14 == 1.14.0). */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
