/**
 * Terminal output helpers. Colour only on a TTY and never when NO_COLOR is set
 * (https://no-color.org). Every byte the CLI prints goes through an Output so tests
 * and --json stay clean.
 */
import { jsonForTerminal } from './terminalText.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
  readonly colour: boolean;
  readonly isTty: boolean;
}

export function terminalOutput(env: NodeJS.ProcessEnv = process.env): Output {
  const colour = !!process.stdout.isTTY && !('NO_COLOR' in env) && env.TERM !== 'dumb';
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    colour,
    isTty: !!process.stdout.isTTY,
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Style = keyof typeof CODES;

export function paint(o: Pick<Output, 'colour'>, style: Style, text: string): string {
  return o.colour ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

/** Left-aligned columns separated by two spaces; no trailing spaces. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** "12s ago", "5m ago", "3h ago", "2d ago". */
export function formatAge(iso: string, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return iso;
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** Pretty JSON; DEL, C1 and bidi characters in strings (guest text) come out as \u escapes, the same value. */
export function printJson(o: Output, value: unknown): void {
  o.out(`${jsonForTerminal(value, 2)}\n`);
}
