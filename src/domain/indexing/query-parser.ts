import { DomainError } from '../errors.js';
import { comparison, type Bound, type PatternPart, type QueryNode, type QueryValue } from './query-ast.js';

/**
 * AWS's fleet-indexing query language (fleet-indexing.md §6.4's grammar), hand-written recursive
 * descent (decision 0026): NOT / `-` / `!` bind tighter than AND (explicit, `&&` or adjacency),
 * which binds tighter than OR / `||`; `field:( … )` gives its bare values the field; `\` escapes.
 *
 *   query   := or
 *   or      := and (("OR" | "||") and)*
 *   and     := unary (["AND" | "&&"] unary)*
 *   unary   := ("NOT" | "!" | "-") unary | "+" unary | primary
 *   primary := "(" or ")" | field ":" ("(" or ")" | range | value) | field cmp bound | value
 *   range   := ("[" | "{") bound "TO" bound ("]" | "}")
 */

type TokenKind = 'word' | 'quoted' | '(' | ')' | ':' | 'cmp' | '[' | ']' | '{' | '}' | '-' | '+' | '!' | 'eof';

interface Token {
  kind: TokenKind;
  /** Text with escapes resolved (words, quoted strings), or the operator. */
  text: string;
  /** The word's pattern when it holds unescaped wildcards. */
  pattern?: PatternPart[];
  pos: number;
  end: number;
}

/** Characters AWS does not support in a query unless quoted or escaped (§6.1). */
const UNSUPPORTED = new Set(['`', '@', '#', '%', '/', "'", ';', ',']);
const SPECIAL = new Set(['(', ')', ':', '<', '>', '[', ']', '{', '}', '"', '\\']);
const isSpace = (c: string) => /\s/.test(c);

/** The InvalidQueryException AWS answers, with where the query went wrong (§6.7). */
export function invalidQuery(query: string, what?: string): DomainError {
  return new DomainError('InvalidQueryException', `Unable to parse query, ${what ? `${what}, ` : ''}query string: ${query}`);
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (what: string, at: number): never => {
    throw invalidQuery(query, `${what} at position ${at}`);
  };
  while (i < query.length) {
    const c = query[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= query.length) fail('unterminated quoted string', start);
        const d = query[i];
        if (d === '\\' && i + 1 < query.length) {
          text += query[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ kind: 'quoted', text, pos: start, end: i });
      continue;
    }
    if (c === '<' || c === '>') {
      const op = query[i + 1] === '=' ? `${c}=` : c;
      i += op.length;
      tokens.push({ kind: 'cmp', text: op, pos: start, end: i });
      continue;
    }
    // Lucene's && and || spell AND and OR.
    if ((c === '&' || c === '|') && query[i + 1] === c) {
      tokens.push({ kind: 'word', text: c === '&' ? 'AND' : 'OR', pos: start, end: i + 2 });
      i += 2;
      continue;
    }
    if (SPECIAL.has(c) && c !== '\\' && c !== '"') {
      tokens.push({ kind: c as TokenKind, text: c, pos: start, end: i + 1 });
      i++;
      continue;
    }
    if (c === '-' || c === '+' || c === '!') {
      tokens.push({ kind: c, text: c, pos: start, end: i + 1 });
      i++;
      continue;
    }
    // A word: up to whitespace or a special character; `\x` is a literal x; `*` / `?` are wildcards.
    let text = '';
    const pattern: PatternPart[] = [];
    let wild = false;
    while (i < query.length) {
      const d = query[i];
      if (isSpace(d) || (SPECIAL.has(d) && d !== '\\')) break;
      if (d === '&' && query[i + 1] === '&') break;
      if (d === '|' && query[i + 1] === '|') break;
      if (d === '\\') {
        if (i + 1 >= query.length) fail('a lone escape character', i);
        text += query[i + 1];
        pushLiteral(pattern, query[i + 1]);
        i += 2;
        continue;
      }
      if (UNSUPPORTED.has(d)) fail(`unsupported character '${d}'`, i);
      if (d === '*' || d === '?') {
        wild = true;
        pattern.push({ wild: d });
      } else {
        pushLiteral(pattern, d);
      }
      text += d;
      i++;
    }
    tokens.push({ kind: 'word', text, pattern: wild ? pattern : undefined, pos: start, end: i });
  }
  tokens.push({ kind: 'eof', text: '', pos: query.length, end: query.length });
  return tokens;
}

function pushLiteral(pattern: PatternPart[], c: string): void {
  const last = pattern[pattern.length - 1];
  if (typeof last === 'string') pattern[pattern.length - 1] = last + c;
  else pattern.push(c);
}

const isOperatorWord = (t: Token, word: string) => t.kind === 'word' && t.text === word && t.pattern === undefined;

/** Nesting deeper than this is refused (a hostile query must not exhaust the stack). */
const MAX_DEPTH = 32;

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly query: string,
    private readonly tokens: Token[],
  ) {}

  parse(): QueryNode {
    if (this.peek().kind === 'eof') this.fail('the query is empty', 0);
    const node = this.or(undefined);
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(`unexpected '${t.text}'`, t.pos);
    return node;
  }

  private or(field: string | undefined): QueryNode {
    const items = [this.and(field)];
    while (isOperatorWord(this.peek(), 'OR')) {
      this.i++;
      items.push(this.and(field));
    }
    return items.length === 1 ? items[0] : { kind: 'or', items };
  }

  private and(field: string | undefined): QueryNode {
    const items = [this.unary(field)];
    for (;;) {
      const t = this.peek();
      if (isOperatorWord(t, 'AND')) {
        this.i++;
        items.push(this.unary(field));
        continue;
      }
      // Adjacency is AND (AWS's default operator), until OR, a closing parenthesis or the end.
      if (t.kind === 'eof' || t.kind === ')' || isOperatorWord(t, 'OR')) break;
      items.push(this.unary(field));
    }
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }

  private unary(field: string | undefined): QueryNode {
    const t = this.peek();
    if (++this.depth > MAX_DEPTH) this.fail(`the query nests deeper than ${MAX_DEPTH} levels`, t.pos);
    try {
      return this.unaryAt(field, t);
    } finally {
      this.depth--;
    }
  }

  private unaryAt(field: string | undefined, t: Token): QueryNode {
    if (isOperatorWord(t, 'NOT') || t.kind === '!' || (t.kind === '-' && !this.negativeNumberAhead(field))) {
      this.i++;
      return { kind: 'not', item: this.unary(field) };
    }
    if (t.kind === '+') {
      this.i++;
      return this.unary(field);
    }
    return this.primary(field);
  }

  /** `-5` as a bare value inside `field:( … )` is a number, not NOT 5. */
  private negativeNumberAhead(field: string | undefined): boolean {
    const t = this.peek();
    const next = this.tokens[this.i + 1];
    return field !== undefined && next.kind === 'word' && next.pos === t.end && /^\d/.test(next.text);
  }

  private primary(field: string | undefined): QueryNode {
    const t = this.peek();
    if (t.kind === '(') {
      this.i++;
      const inner = this.or(field);
      this.expect(')', t.pos);
      return inner;
    }
    if (t.kind === 'word' || t.kind === 'quoted' || t.kind === '-') {
      const next = this.tokens[this.i + 1];
      if (t.kind === 'word' && !isOperatorWord(t, 'AND') && !isOperatorWord(t, 'OR') && !isOperatorWord(t, 'NOT')) {
        if (next.kind === ':') return this.fieldClause(t);
        if (next.kind === 'cmp') {
          this.i += 2;
          return { kind: 'match', field: this.fieldName(t), value: comparison(next.text as '>', this.bound()), pos: t.pos };
        }
      }
      if (t.kind === 'word' && (isOperatorWord(t, 'AND') || isOperatorWord(t, 'OR') || isOperatorWord(t, 'NOT'))) {
        this.fail(`unexpected '${t.text}'`, t.pos);
      }
      if (t.kind === 'word' && t.text === '*' && t.pattern && field === undefined) {
        this.i++;
        return { kind: 'all' };
      }
      return { kind: 'match', ...(field !== undefined ? { field } : {}), value: this.value(field !== undefined), pos: t.pos };
    }
    if (t.kind === '[' || t.kind === '{') {
      if (field === undefined) this.fail('a range needs a field', t.pos);
      return { kind: 'match', field, value: this.range(), pos: t.pos };
    }
    if (t.kind === 'eof') this.fail('the query ends too early', t.pos);
    return this.fail(`unexpected '${t.text}'`, t.pos);
  }

  private fieldClause(fieldToken: Token): QueryNode {
    const field = this.fieldName(fieldToken);
    this.i += 2; // field and ':'
    const t = this.peek();
    if (t.kind === '(') {
      this.i++;
      const inner = this.or(field);
      this.expect(')', t.pos);
      return inner;
    }
    if (t.kind === '[' || t.kind === '{') return { kind: 'match', field, value: this.range(), pos: fieldToken.pos };
    if (t.kind === 'cmp') {
      // `field:>5` (Lucene's spelling of a comparison).
      this.i++;
      return { kind: 'match', field, value: comparison(t.text as '>', this.bound()), pos: fieldToken.pos };
    }
    if (t.kind !== 'word' && t.kind !== 'quoted' && t.kind !== '-') this.fail(`a value is missing after '${field}:'`, t.pos);
    return { kind: 'match', field, value: this.value(true), pos: fieldToken.pos };
  }

  private fieldName(t: Token): string {
    if (t.pattern !== undefined) {
      // Wildcard segments are allowed in field names (shadow.name.*.reported.x, …reported.*.attributes.y).
      const ok = t.pattern.every((p) => typeof p === 'string' || p.wild === '*');
      if (!ok) this.fail(`invalid field name '${t.text}'`, t.pos);
    }
    if (t.text === '' || t.text.startsWith('.') || t.text.endsWith('.') || t.text.includes('..')) this.fail(`invalid field name '${t.text}'`, t.pos);
    return t.text;
  }

  private value(inField: boolean): QueryValue {
    let t = this.next();
    if (t.kind === 'quoted') return { type: 'phrase', text: t.text };
    let prefix = '';
    if (t.kind === '-') {
      const n = this.peek();
      if (n.kind !== 'word' || n.pos !== t.end) this.fail("unexpected '-'", t.pos);
      prefix = '-';
      t = this.next();
    }
    if (t.kind !== 'word') this.fail(`unexpected '${t.text}'`, t.pos);
    if (t.pattern) {
      if (inField && prefix === '' && t.pattern.length === 1 && typeof t.pattern[0] !== 'string' && t.pattern[0].wild === '*') return { type: 'exists' };
      return { type: 'term', text: prefix + t.text, pattern: prefix ? ['-', ...t.pattern] : t.pattern };
    }
    return { type: 'term', text: prefix + t.text };
  }

  private range(): QueryValue {
    const open = this.next();
    const lo = this.rangeBound();
    const to = this.next();
    if (!isOperatorWord(to, 'TO')) this.fail("'TO' expected in a range", to.pos);
    const hi = this.rangeBound();
    const close = this.next();
    if (close.kind !== ']' && close.kind !== '}') this.fail("']' or '}' expected to close the range", close.pos);
    return { type: 'range', ...(lo ? { lo } : {}), ...(hi ? { hi } : {}), loInclusive: open.kind === '[', hiInclusive: close.kind === ']' };
  }

  /** A range bound; `*` is an open end. */
  private rangeBound(): Bound | undefined {
    const t = this.peek();
    if (t.kind === 'word' && t.text === '*' && t.pattern) {
      this.i++;
      return undefined;
    }
    return this.bound();
  }

  private bound(): Bound {
    let t = this.next();
    if (t.kind === 'quoted') return { text: t.text, quoted: true };
    let sign = '';
    if (t.kind === '-' || t.kind === '+') {
      sign = t.kind === '-' ? '-' : '';
      t = this.next();
    }
    if (t.kind !== 'word' || t.pattern) this.fail(t.kind === 'eof' ? 'a value is missing at the end' : `invalid bound '${t.text}'`, t.pos);
    return { text: sign + t.text, quoted: false };
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private expect(kind: TokenKind, openedAt: number): void {
    const t = this.next();
    if (t.kind !== kind) this.fail(`'${kind}' expected for the '(' at position ${openedAt}, found ${t.kind === 'eof' ? 'the end' : `'${t.text}'`}`, t.pos);
  }

  private fail(what: string, at: number): never {
    throw invalidQuery(this.query, `${what}${what.includes(' at position ') ? '' : ` at position ${at}`}`);
  }
}

/** Parses a query string; a syntax error is AWS's InvalidQueryException, saying where. */
export function parseQuery(query: string): QueryNode {
  return new Parser(query, tokenize(query)).parse();
}
