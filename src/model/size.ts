/**
 * Sizes in config and flags: a number with an optional binary unit. A bare number is
 * MiB (so `memory = 2048` means 2048 MiB). Units are always powers of 1024:
 * K/KiB, M/MiB, G/GiB, T/TiB (case-insensitive, "B" suffix optional).
 */
export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;
export const TIB = 1024 * GIB;

const UNITS: Record<string, number> = {
  '': MIB,
  b: 1,
  k: KIB,
  kb: KIB,
  kib: KIB,
  m: MIB,
  mb: MIB,
  mib: MIB,
  g: GIB,
  gb: GIB,
  gib: GIB,
  t: TIB,
  tb: TIB,
  tib: TIB,
};

export class SizeParseError extends Error {}

/** Parses "8G", "512MiB", "1.5g", 2048 (MiB) into bytes. Throws SizeParseError. */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input <= 0) throw new SizeParseError(`size ${input} must be a positive number`);
    return checkedBytes(input * MIB, String(input));
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!m)
    throw new SizeParseError(
      `"${input}" is not a size; use a number with an optional unit, e.g. 512M, 8G or 2048 (MiB)`,
    );
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined)
    throw new SizeParseError(`"${input}" has an unknown unit "${m[2]}"; use K, M, G or T (powers of 1024)`);
  return checkedBytes(Number(m[1]) * unit, input);
}

function checkedBytes(bytes: number, shown: string): number {
  if (bytes <= 0) throw new SizeParseError(`size "${shown}" must be greater than zero`);
  if (!Number.isSafeInteger(Math.round(bytes))) throw new SizeParseError(`size "${shown}" is too large`);
  return Math.round(bytes);
}

/** Formats bytes compactly with the largest unit that keeps at most one decimal: "8G", "1.5G", "512M". */
export function formatSize(bytes: number): string {
  for (const [suffix, unit] of [
    ['T', TIB],
    ['G', GIB],
    ['M', MIB],
    ['K', KIB],
  ] as const) {
    if (bytes >= unit) {
      const v = bytes / unit;
      return (Number.isInteger(v) ? String(v) : String(Math.round(v * 10) / 10)) + suffix;
    }
  }
  return `${bytes}B`;
}

/** Formats bytes as a human figure with IEC units: "1.2 GiB". */
export function formatBytesIec(bytes: number): string {
  for (const [suffix, unit] of [
    ['TiB', TIB],
    ['GiB', GIB],
    ['MiB', MIB],
    ['KiB', KIB],
  ] as const) {
    if (bytes >= unit) return `${(bytes / unit).toFixed(1).replace(/\.0$/, '')} ${suffix}`;
  }
  return `${bytes} B`;
}
