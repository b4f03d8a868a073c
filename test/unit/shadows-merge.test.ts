import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeShadow, type ShadowContent } from '../../src/domain/shadows/merge.js';
import { metadataOf } from '../../src/domain/shadows/metadata.js';

const T1 = 1_700_000_000;
const T2 = 1_700_000_100;
const empty: ShadowContent = { state: {} };

describe('shadow merge and metadata (things-and-shadows.md §6.2, §6.3)', () => {
  it('stamps every leaf, with per-element metadata for arrays and nested objects in arrays', () => {
    assert.deepEqual(metadataOf({ a: 1, rgb: [1, 2], list: [{ x: true }], o: { s: 'v' } }, T1), {
      a: { timestamp: T1 },
      rgb: [{ timestamp: T1 }, { timestamp: T1 }],
      list: [{ x: { timestamp: T1 } }],
      o: { s: { timestamp: T1 } },
    });
  });

  it('merges recursively and refreshes only the leaves written', () => {
    const first = mergeShadow(empty, { desired: { id: 7, cfg: { a: 1, b: 2 } } }, T1, true);
    const second = mergeShadow(first, { desired: { cfg: { b: 3 } } }, T2, true);
    assert.deepEqual(second.state, { desired: { id: 7, cfg: { a: 1, b: 3 } } });
    assert.deepEqual(second.metadata, { desired: { id: { timestamp: T1 }, cfg: { a: { timestamp: T1 }, b: { timestamp: T2 } } } });
    // The input is not modified.
    assert.deepEqual(first.state, { desired: { id: 7, cfg: { a: 1, b: 2 } } });
  });

  it('refreshes the timestamp of an unchanged value written again', () => {
    const first = mergeShadow(empty, { reported: { on: true } }, T1, true);
    assert.deepEqual(mergeShadow(first, { reported: { on: true } }, T2, true).metadata, { reported: { on: { timestamp: T2 } } });
  });

  it('replaces arrays whole, with fresh metadata for every element', () => {
    const first = mergeShadow(empty, { desired: { rgb: [1, 2, 3] } }, T1, true);
    const second = mergeShadow(first, { desired: { rgb: [9] } }, T2, true);
    assert.deepEqual(second.state, { desired: { rgb: [9] } });
    assert.deepEqual(second.metadata, { desired: { rgb: [{ timestamp: T2 }] } });
  });

  it('replaces a scalar by an object and an object by a scalar', () => {
    const first = mergeShadow(empty, { desired: { a: 1, b: { c: 1 } } }, T1, true);
    const second = mergeShadow(first, { desired: { a: { x: 1 }, b: 'flat' } }, T2, true);
    assert.deepEqual(second.state, { desired: { a: { x: 1 }, b: 'flat' } });
    assert.deepEqual(second.metadata, { desired: { a: { x: { timestamp: T2 } }, b: { timestamp: T2 } } });
  });

  it('deletes a key (and its metadata) on null, and drops a section left empty', () => {
    const first = mergeShadow(empty, { desired: { a: 1 }, reported: { a: 1, b: 2 } }, T1, true);
    const second = mergeShadow(first, { desired: { a: null }, reported: { b: null } }, T2, true);
    assert.deepEqual(second.state, { reported: { a: 1 } });
    assert.deepEqual(second.metadata, { reported: { a: { timestamp: T1 } } });
  });

  it('deletes a whole section on null and both on a null state', () => {
    const first = mergeShadow(empty, { desired: { a: 1 }, reported: { b: 2 } }, T1, true);
    assert.deepEqual(mergeShadow(first, { desired: null }, T2, true), { state: { reported: { b: 2 } }, metadata: { reported: { b: { timestamp: T1 } } } });
    assert.deepEqual(mergeShadow(first, null, T2, true), { state: {}, metadata: {} });
  });

  it('does not add a new object made only of nulls, and strips nulls from new objects', () => {
    const merged = mergeShadow(empty, { desired: { gone: { x: null, y: { z: null } }, kept: { a: 1, b: null } } }, T1, true);
    assert.deepEqual(merged.state, { desired: { kept: { a: 1 } } });
    assert.deepEqual(merged.metadata, { desired: { kept: { a: { timestamp: T1 } } } });
  });

  it('ignores a null for a key that does not exist', () => {
    assert.deepEqual(mergeShadow(empty, { reported: { nothing: null } }, T1, true), { state: {}, metadata: {} });
  });

  it('keeps no metadata when asked not to ($package)', () => {
    const first = mergeShadow(empty, { reported: { pkg: { version: '1', attributes: { k: 'v' } } } }, T1, false);
    const second = mergeShadow(first, { reported: { pkg: { version: '2' } } }, T2, false);
    assert.deepEqual(second, { state: { reported: { pkg: { version: '2', attributes: { k: 'v' } } } } });
  });

  it('treats __proto__ as an ordinary key without touching prototypes', () => {
    const patch = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, never>;
    const merged = mergeShadow(empty, { desired: patch }, T1, true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(JSON.stringify(merged.state), '{"desired":{"__proto__":{"polluted":true},"a":1}}');
    const again = mergeShadow(merged, { desired: JSON.parse('{"__proto__":{"more":1}}') as Record<string, never> }, T2, true);
    assert.equal(JSON.stringify(again.state), '{"desired":{"__proto__":{"polluted":true,"more":1},"a":1}}');
    assert.equal(({} as Record<string, unknown>).more, undefined);
  });
});
