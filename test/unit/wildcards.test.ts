import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyOf, anyPattern, patternMatcher, patternSource, type PatternPiece } from '../../src/domain/policies/wildcards.js';

/** A small deterministic generator, so a failure names a case that can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

describe('policy wildcards without regular expressions', () => {
  it('matches exactly what the anchored expression of the same pattern matches', () => {
    const r = random(11);
    // Few letters, so that random names and patterns meet often; `/`, `+`, `#`, `.` and a surrogate pair are plain characters.
    const alphabet = ['a', 'b', '/', '+', '#', '.', '\u{1F600}'];
    const globBits = ['a', 'b', '/', '*', '?', '**', '$(*)', '$(?)', '$($)', '$', '('];
    for (let i = 0; i < 4000; i++) {
      const pieces: PatternPiece[] = Array.from({ length: 1 + Math.floor(r() * 4) }, () =>
        r() < 0.3 ? { literal: Array.from({ length: Math.floor(r() * 3) }, () => pick(r, [...alphabet, '*', '?'])).join('') } : { glob: Array.from({ length: Math.floor(r() * 4) }, () => pick(r, globBits)).join('') },
      );
      const expected = anyOf([patternSource(pieces)]);
      const matcher = patternMatcher(pieces);
      for (let j = 0; j < 8; j++) {
        const name = Array.from({ length: Math.floor(r() * 7) }, () => pick(r, [...alphabet, '*', '?', '$', '(', ')'])).join('');
        assert.equal(matcher.test(name), expected.test(name), `pattern ${JSON.stringify(pieces)} on ${JSON.stringify(name)}`);
      }
    }
  });

  it('takes a variable\'s value literally and treats the escapes as their characters', () => {
    const star = patternMatcher([{ glob: 'topic/' }, { literal: '*' }, { glob: '/x' }]);
    assert.equal(star.test('topic/*/x'), true);
    assert.equal(star.test('topic/abc/x'), false);
    assert.equal(patternMatcher([{ glob: 'a$(*)b' }]).test('a*b'), true);
    assert.equal(patternMatcher([{ glob: 'a$(*)b' }]).test('axb'), false);
    assert.equal(patternMatcher([{ glob: 'a?c' }]).test('abc'), true);
    assert.equal(patternMatcher([{ glob: 'a?c' }]).test('ac'), false);
    assert.equal(patternMatcher([{ glob: 'things/*' }]).test('things/'), true);
    assert.equal(patternMatcher([{ glob: 'things/?*' }]).test('things/'), false);
  });

  it('a list matches when any of its patterns does', () => {
    const m = anyPattern([patternMatcher([{ glob: 'a*' }]), patternMatcher([{ glob: '*z' }])]);
    assert.deepEqual(['ab', 'yz', 'mm'].map((n) => m.test(n)), [true, true, false]);
  });
});
