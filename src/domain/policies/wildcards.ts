/**
 * IAM-style wildcards in IoT policies (device-security.md §5.3): `*` is any run of characters,
 * `/` included, `?` exactly one; `$(*)`, `$(?)` and `$($)` stand for those characters literally.
 * MQTT's `+` and `#` are plain characters. Policy variables (`${…}`) are substituted before a
 * pattern is compiled, and what they put in is always literal: a client id `*` widens nothing.
 */

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;
const SPECIAL_CHARS = new Set('.*+?^${}()|[]\\/-');
const escapeRegex = (s: string) => s.replace(REGEX_SPECIAL, '\\$&');
const escapeChar = (c: string) => (SPECIAL_CHARS.has(c) ? `\\${c}` : c);

/** One piece of a pattern: literal text (from the document's escapes or a variable's value) or policy text with wildcards. */
export type PatternPiece = { literal: string } | { glob: string };

/** The regular-expression source of policy text with `*`, `?` and the `$(…)` escapes. */
export function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '$' && glob[i + 1] === '(' && glob[i + 3] === ')' && /[*?$]/.test(glob[i + 2] ?? '')) {
      out += escapeChar(glob[i + 2]);
      i += 3;
    } else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else out += escapeChar(c);
  }
  return out;
}

/** The regular-expression source of a whole pattern. */
export function patternSource(pieces: PatternPiece[]): string {
  return pieces.map((p) => ('literal' in p ? escapeRegex(p.literal) : globSource(p.glob))).join('');
}

/** One anchored expression matching any of the patterns (case-insensitive for action names). */
export function anyOf(sources: string[], ignoreCase = false): RegExp {
  return new RegExp(`^(?:${sources.join('|')})$`, ignoreCase ? 'is' : 's');
}
