/**
 * Text from a guest (the agent's answers, a patch made in the VM, its console, error
 * messages that quote guest output) is untrusted: printed raw, it could drive the user's
 * terminal (ESC and CSI sequences move the cursor or rewrite lines, OSC 52 writes the
 * clipboard, OSC 0 sets the title, a lone \r overwrites what was printed, C1 controls act
 * like ESC sequences on some terminals, bidi overrides make text read differently from
 * what it is). These functions make such characters visible as escapes instead.
 *
 * What becomes an escape: C0 controls (U+0000-U+001F) except \n and \t, DEL (U+007F), C1
 * controls (U+0080-U+009F), the Unicode bidi controls and isolates (U+061C, U+200E,
 * U+200F, U+202A-U+202E, U+2066-U+2069) and lone surrogates (not text; Node would print
 * them as U+FFFD). Everything else, accents, CJK and emoji included, is left as it is.
 * Backslashes are not doubled, so a guest can print a literal `\x1b` that looks like an
 * escaped one: that can mislead a reader, but it cannot act on the terminal.
 *
 * Pure: no I/O, no state.
 */

const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Whether a code point must not reach a terminal raw (\n, \t and \r are decided by the caller). */
function isUnsafe(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    (cp >= 0xd800 && cp <= 0xdfff)
  );
}

/** The visible form of one unsafe character: \r, \n, \t by name, \xHH below U+0100, else \uHHHH. */
function visible(ch: string, cp: number): string {
  return NAMED[ch] ?? (cp < 0x100 ? `\\x${hex(cp, 2)}` : `\\u${hex(cp, 4)}`);
}

function escape(s: string, keepLines: boolean): string {
  let out = '';
  let i = 0;
  // for..of walks code points: a valid surrogate pair is one emoji, a lone surrogate stays alone.
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (!isUnsafe(cp)) out += ch;
    else if (keepLines && (ch === '\n' || ch === '\t' || (ch === '\r' && s[i + 1] === '\n'))) out += ch;
    else out += visible(ch, cp);
    i += ch.length;
  }
  return out;
}

/**
 * Multi-line text (a patch, a console log, an error message): keeps \n and \t, and \r only
 * as part of \r\n (a CRLF line end overwrites nothing; serial consoles and CRLF files are
 * full of them). Every other character listed above becomes an escape.
 */
export function escapeForTerminal(s: string): string {
  return escape(s, true);
}

/** One table cell or `key  value` line: like escapeForTerminal, and \n, \t and \r become escapes too. */
export function escapeForTerminalLine(s: string): string {
  return escape(s, false);
}

/** Whether escapeForTerminal would change `s` (so a caller can say that it did). */
export function needsTerminalEscape(s: string): boolean {
  return escapeForTerminal(s) !== s;
}

// Characters JSON.stringify leaves raw that a terminal may act on. In JSON text they can
// only appear inside strings, where \uHHHH is the same value: escaping them is lossless.
// (JSON.stringify already escapes U+0000-U+001F and lone surrogates.)
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** JSON text whose every character is safe on a terminal, parsing to exactly the same value. */
export function jsonForTerminal(value: unknown, indent?: number): string {
  // String(): JSON.stringify(undefined) is undefined, printed as such before this existed.
  return String(JSON.stringify(value, null, indent)).replace(JSON_UNSAFE, (ch) => `\\u${hex(ch.charCodeAt(0), 4)}`);
}
