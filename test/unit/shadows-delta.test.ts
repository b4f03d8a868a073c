import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeDelta } from '../../src/domain/shadows/delta.js';
import { deltaMetadata } from '../../src/domain/shadows/metadata.js';

describe('shadow delta (things-and-shadows.md §6.7)', () => {
  it('keeps only what desired asks for and reported does not show, with the parent path of nested changes', () => {
    assert.deepEqual(
      computeDelta({ lights: { color: { r: 255, g: 255, b: 255 } } }, { lights: { color: { r: 255, g: 0, b: 255 } } }),
      { lights: { color: { g: 255 } } },
    );
  });

  it('gives all of desired when nothing is reported, and nothing without desired', () => {
    assert.deepEqual(computeDelta({ a: 1, b: { c: 2 } }, undefined), { a: 1, b: { c: 2 } });
    assert.equal(computeDelta(undefined, { a: 1 }), undefined);
    assert.equal(computeDelta({ a: 1 }, { a: 1, extra: true }), undefined);
  });

  it('never shows keys only reported has, and brings back a key reported dropped', () => {
    assert.deepEqual(computeDelta({ a: 1, b: 2 }, { b: 2, onlyReported: 'x' }), { a: 1 });
  });

  it('compares arrays as whole values and numbers by value', () => {
    assert.deepEqual(computeDelta({ rgb: [255, 255, 0] }, { rgb: [255, 0, 0] }), { rgb: [255, 255, 0] });
    assert.equal(computeDelta({ rgb: [1, { a: 2 }] }, { rgb: [1, { a: 2 }] }), undefined);
    assert.equal(computeDelta({ n: 1 }, JSON.parse('{"n":1.0}') as { n: number }), undefined);
  });

  it('treats different types as different, including object against scalar', () => {
    assert.deepEqual(computeDelta({ a: '1', b: { c: 1 }, d: 0 }, { a: 1, b: 'c', d: false }), { a: '1', b: { c: 1 }, d: 0 });
  });

  it('leaves out nested objects that already match, key order aside', () => {
    assert.equal(computeDelta({ o: { x: 1, y: 2 } }, { o: { y: 2, x: 1 } }), undefined);
  });

  it('maps delta leaves to the desired timestamps (metadata.delta)', () => {
    const meta = { a: { timestamp: 10 }, b: { c: { timestamp: 11 }, d: { timestamp: 12 } }, rgb: [{ timestamp: 13 }, { timestamp: 13 }] };
    assert.deepEqual(deltaMetadata({ b: { d: 5 }, rgb: [1, 2] }, meta), { b: { d: { timestamp: 12 } }, rgb: [{ timestamp: 13 }, { timestamp: 13 }] });
  });
});
