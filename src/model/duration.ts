/**
 * Durations in config: Go-style sequences like "24h", "2h30m", "10s", "250ms", or "0"
 * (meaning off). Returned in milliseconds.
 */
export class DurationParseError extends Error {}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(input: string): number {
  const s = input.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let matched = 0;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m) {
      throw new DurationParseError(
        `"${input}" is not a duration; use e.g. 10s, 2h30m, 24h or 0 (units: ms, s, m, h, d)`,
      );
    }
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched++;
  }
  if (matched === 0) throw new DurationParseError(`"${input}" is not a duration; use e.g. 10s, 2h30m, 24h or 0`);
  return Math.round(total);
}

/** Formats milliseconds as "2h30m", "10s", "1.5s", "250ms", "0". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  let rest = Math.round(ms / 1000);
  let out = '';
  for (const [unit, secs] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / secs);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * secs;
    }
  }
  return out;
}
