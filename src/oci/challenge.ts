/**
 * `WWW-Authenticate` parsing (RFC 7235): one header may carry several challenges, each a
 * scheme followed by comma-separated `name=value` parameters (value a token or a quoted
 * string). Registries answer `Bearer realm="…",service="…",scope="…"` (the token flow of the
 * distribution spec) or `Basic realm="…"`.
 */

export interface AuthChallenge {
  /** Lowercased: "bearer", "basic", … */
  scheme: string;
  /** Parameter names lowercased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;

/** The token starting at s[i], or '' (sticky match: no copying of the rest of the header). */
function tokenAt(s: string, i: number): string {
  TOKEN.lastIndex = i;
  return TOKEN.exec(s)?.[0] ?? '';
}

/** Reads a quoted string starting at s[i] === '"'; returns the value and the index after it. */
function quoted(s: string, i: number): [string, number] {
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\' && j + 1 < s.length) out += s[++j];
    else if (c === '"') return [out, j + 1];
    else out += c;
  }
  return [out, s.length];
}

const skipSpace = (s: string, i: number): number => {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  return i;
};

/** Parses every challenge in `header`; unknown or garbled parts are skipped, never thrown. */
export function parseWwwAuthenticate(header: string | string[] | undefined): AuthChallenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const out: AuthChallenge[] = [];
  let cur: AuthChallenge | null = null;
  let i = 0;
  while ((i = skipSpace(text, i)) < text.length) {
    const tok = tokenAt(text, i);
    if (!tok) {
      i++;
      continue;
    }
    let j = i + tok.length;
    while (text[j] === ' ') j++;
    if (text[j] === '=' && cur && text[j + 1] !== '=') {
      j++;
      while (text[j] === ' ') j++;
      let value: string;
      if (text[j] === '"') [value, j] = quoted(text, j);
      else {
        value = tokenAt(text, j);
        j += value.length;
      }
      cur.params[tok.toLowerCase()] = value;
      i = j;
    } else {
      // A new challenge. (A token68 after a scheme, unused by registries, reads as junk schemes.)
      cur = { scheme: tok.toLowerCase(), params: {} };
      out.push(cur);
      i += tok.length;
    }
  }
  return out;
}
