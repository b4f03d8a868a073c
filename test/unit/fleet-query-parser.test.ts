import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLimits, DEFAULT_QUERY_LIMITS } from '../../src/domain/indexing/index-fields.js';
import type { QueryNode } from '../../src/domain/indexing/query-ast.js';
import { parseQuery } from '../../src/domain/indexing/query-parser.js';

/** A compact rendering of the tree: (and …), (or …), (not …), field=value. */
function show(n: QueryNode): string {
  switch (n.kind) {
    case 'all': return '*';
    case 'not': return `(not ${show(n.item)})`;
    case 'and':
    case 'or': return `(${n.kind} ${n.items.map(show).join(' ')})`;
    case 'match': {
      const v = n.value;
      const text = v.type === 'term' ? (v.pattern ? `~${v.text}` : v.text)
        : v.type === 'phrase' ? `"${v.text}"`
          : v.type === 'exists' ? '<exists>'
            : `${v.loInclusive ? '[' : '{'}${v.lo?.text ?? '*'},${v.hi?.text ?? '*'}${v.hiInclusive ? ']' : '}'}`;
      return `${n.field ?? '_'}=${text}`;
    }
  }
}

const parsed = (q: string) => show(parseQuery(q));
const fails = (q: string, message: RegExp) => assert.throws(() => parseQuery(q), (e: Error & { errorName?: string }) => e.errorName === 'InvalidQueryException' && message.test(e.message));

describe('fleet-indexing query parser', () => {
  it('binds NOT over AND over OR, with adjacency as AND', () => {
    assert.equal(parsed('a:1 OR b:2 AND c:3'), '(or a=1 (and b=2 c=3))');
    assert.equal(parsed('a:1 b:2 OR NOT c:3 d:4'), '(or (and a=1 b=2) (and (not c=3) d=4))');
    assert.equal(parsed('(a:1 OR b:2) AND -c:3'), '(and (or a=1 b=2) (not c=3))');
    assert.equal(parsed('a:1 || b:2 && !c:3'), '(or a=1 (and b=2 (not c=3)))');
    assert.equal(parsed('a:1 NOT b:2'), '(and a=1 (not b=2))');
  });

  it('reads field groups, ranges, comparisons, phrases, wildcards, escapes and *', () => {
    assert.equal(parsed('thingName:(tv* AND -plasma)'), '(and thingName=~tv* (not thingName=plasma))');
    assert.equal(parsed('attributes.x:{75 TO 80]'), 'attributes.x={75,80]');
    assert.equal(parsed('attributes.x:[* TO "abc"}'), 'attributes.x=[*,abc}');
    assert.equal(parsed('connectivity.timestamp > 1557651600000'), 'connectivity.timestamp={1557651600000,*]');
    assert.equal(parsed('attributes.t<=-5'), 'attributes.t=[*,-5]');
    assert.equal(parsed('shadow.reported.location:"new york"'), 'shadow.reported.location="new york"');
    assert.equal(parsed('shadow.name.device\\-config.reported.x:*'), 'shadow.name.device-config.reported.x=<exists>');
    assert.equal(parsed('shadow.name.$package.reported.*.attributes.packageID>1500'), 'shadow.name.$package.reported.*.attributes.packageID={1500,*]');
    assert.equal(parsed('thingName:a\\*b'), 'thingName=a*b');
    assert.equal(parsed('*'), '*');
    assert.equal(parsed('abc'), '_=abc');
  });

  it('says where a query is wrong', () => {
    fails('', /the query is empty/);
    fails('a:(b', /'\)' expected for the '\(' at position 2/);
    fails('a:b)', /unexpected '\)' at position 3/);
    fails('a:', /a value is missing after 'a:' at position 2/);
    fails('OR a:b', /unexpected 'OR' at position 0/);
    fails('a:"b', /unterminated quoted string at position 2/);
    fails('a:[1 2]', /'TO' expected in a range at position 5/);
    fails('a:b;c', /unsupported character ';' at position 3/);
    fails('a:b\\', /a lone escape character at position 3/);
    fails('a?b:c', /invalid field name 'a\?b'/);
    fails(`${'('.repeat(1000)}a:b${')'.repeat(1000)}`, /nests deeper than 32 levels/);
    fails(`${'NOT '.repeat(1000)}a:b`, /nests deeper than 32 levels/);
  });

  it('enforces 12 terms, one leading wildcard and 100 characters with one', () => {
    const limits = (q: string) => checkLimits(q, parseQuery(q), DEFAULT_QUERY_LIMITS);
    limits(Array.from({ length: 12 }, (_, i) => `a:${i}`).join(' '));
    assert.throws(() => limits(Array.from({ length: 13 }, (_, i) => `a:${i}`).join(' ')), /too many terms/);
    limits('a:*x');
    assert.throws(() => limits('a:*x b:?y'), /only one term may start with a wildcard/);
    assert.throws(() => limits(`a:*x b:${'y'.repeat(100)}`), /at most 100 characters/);
  });
});
