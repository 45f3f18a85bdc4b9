/** Median and p90 of a sample; benchmarks report these, never single timings. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  median: number;
  p90: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, median: percentile(s, 50), p90: percentile(s, 90) };
}

export function formatSummary(label: string, s: Summary, unit = 'ms'): string {
  return `${label.padEnd(44)} median ${s.median.toFixed(1).padStart(7)} ${unit}   p90 ${s.p90.toFixed(1).padStart(7)} ${unit}   (n=${s.n})`;
}
