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

/** Something a name is tested against: a compiled pattern, or several of them. */
export interface NameMatcher {
  test(name: string): boolean;
}

const LITERAL = 0;
const ANY_RUN = 1;
const ONE_CHAR = 2;

/**
 * Patterns matched without a regular expression. A connection's resources hold its thing name or
 * client id, so each connection's patterns are new ones: a RegExp per pattern was compiled by V8 at
 * its first test, and that compile was most of the policy engine's cost per CONNECT (~0.2 ms for
 * the default policy). An exact name is an equality and a trailing `*` a prefix test; anything
 * else walks the pattern, going back only to the last `*`, so a test costs at most the product of
 * the two lengths, as the regular expression's backtracking did. Every connection keeps its own,
 * so each holds no more than its kind needs: one flat string, and the wildcard slots only for a
 * pattern that has wildcards inside.
 */
class ExactMatcher implements NameMatcher {
  constructor(private readonly exact: string) {}

  test(name: string): boolean {
    return name === this.exact;
  }
}

class PrefixMatcher implements NameMatcher {
  constructor(private readonly prefix: string) {}

  test(name: string): boolean {
    return name.startsWith(this.prefix);
  }
}

class GlobMatcher implements NameMatcher {
  constructor(
    private readonly chars: string,
    private readonly kinds: Uint8Array,
  ) {}

  test(name: string): boolean {
    const { chars, kinds } = this;
    let p = 0;
    let n = 0;
    let star = -1;
    let resume = 0;
    while (n < name.length) {
      if (p < kinds.length && kinds[p] === ANY_RUN) {
        star = p++;
        resume = n;
      } else if (p < kinds.length && (kinds[p] === ONE_CHAR || chars[p] === name[n])) {
        p++;
        n++;
      } else if (star !== -1) {
        p = star + 1;
        n = ++resume;
      } else return false;
    }
    while (p < kinds.length && kinds[p] === ANY_RUN) p++;
    return p === kinds.length;
  }
}

class AnyMatcher implements NameMatcher {
  constructor(private readonly matchers: NameMatcher[]) {}

  test(name: string): boolean {
    for (const m of this.matchers) if (m.test(name)) return true;
    return false;
  }
}

/** A whole pattern as a matcher: the same language as `patternSource`'s expression, anchored at both ends. */
export function patternMatcher(pieces: PatternPiece[]): NameMatcher {
  // Characters are collected and joined once: a string grown a character at a time is a chain of
  // one V8 cons node per character, which the matcher would keep (~50 nodes a pattern).
  const chars: string[] = [];
  const kinds: number[] = [];
  for (const piece of pieces) {
    if ('literal' in piece) {
      for (let i = 0; i < piece.literal.length; i++) {
        chars.push(piece.literal[i]);
        kinds.push(LITERAL);
      }
      continue;
    }
    const glob = piece.glob;
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i];
      if (c === '$' && glob[i + 1] === '(' && glob[i + 3] === ')' && /[*?$]/.test(glob[i + 2] ?? '')) {
        chars.push(glob[i + 2]);
        kinds.push(LITERAL);
        i += 3;
      } else {
        // A wildcard takes one slot whose character is never compared.
        chars.push(c);
        kinds.push(c === '*' ? ANY_RUN : c === '?' ? ONE_CHAR : LITERAL);
      }
    }
  }
  const text = chars.join('');
  const wild = kinds.findIndex((k) => k !== LITERAL);
  if (wild === -1) return new ExactMatcher(text);
  if (wild === kinds.length - 1 && kinds[wild] === ANY_RUN) return new PrefixMatcher(text.slice(0, wild));
  return new GlobMatcher(text, Uint8Array.from(kinds));
}

/** A matcher for any of several patterns. */
export function anyPattern(matchers: NameMatcher[]): NameMatcher {
  return matchers.length === 1 ? matchers[0] : new AnyMatcher(matchers);
}
