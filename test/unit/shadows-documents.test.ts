import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptedDocument, deltaDocument, documentsDocument, fullDocument } from '../../src/domain/shadows/documents.js';
import type { ShadowContent } from '../../src/domain/shadows/merge.js';

const T = 1_591_141_596;
const content: ShadowContent = {
  state: { desired: { color: 'RED', rgb: [255, 255, 0] }, reported: { color: 'GREEN', rgb: [255, 255, 0] } },
  metadata: {
    desired: { color: { timestamp: 10 }, rgb: [{ timestamp: 10 }, { timestamp: 10 }, { timestamp: 10 }] },
    reported: { color: { timestamp: 20 }, rgb: [{ timestamp: 20 }, { timestamp: 20 }, { timestamp: 20 }] },
  },
};

describe('shadow documents (things-and-shadows.md §6.4, §6.5, §7.2)', () => {
  it('full document: state and metadata with delta, in AWS member order', () => {
    const doc = fullDocument(content, 4, T);
    assert.deepEqual(Object.keys(doc), ['state', 'metadata', 'version', 'timestamp']);
    assert.deepEqual(doc.state, { ...content.state, delta: { color: 'RED' } });
    assert.deepEqual((doc.metadata as Record<string, unknown>).delta, { color: { timestamp: 10 } });
    assert.equal(fullDocument(content, 4, T, 'tok').clientToken, 'tok');
  });

  it('full document of an empty shadow still has state; $package has no metadata member', () => {
    assert.deepEqual(fullDocument({ state: {}, metadata: {} }, 2, T), { state: {}, metadata: {}, version: 2, timestamp: T });
    assert.deepEqual(fullDocument({ state: { reported: { p: { version: '1' } } } }, 1, T), { state: { reported: { p: { version: '1' } } }, version: 1, timestamp: T });
  });

  it('accepted document echoes the request state and stamps null leaves too', () => {
    const doc = acceptedDocument({ state: { desired: { engine: null, rgb: [1, 2] }, reported: null }, clientToken: 'c' }, 5, T, true);
    assert.deepEqual(Object.keys(doc), ['state', 'metadata', 'version', 'timestamp', 'clientToken']);
    assert.deepEqual(doc.state, { desired: { engine: null, rgb: [1, 2] }, reported: null });
    assert.deepEqual(doc.metadata, { desired: { engine: { timestamp: T }, rgb: [{ timestamp: T }, { timestamp: T }] }, reported: { timestamp: T } });
    assert.equal(acceptedDocument({ state: { reported: { a: 1 } } }, 1, T, false).metadata, undefined);
  });

  it('delta message carries the whole delta with desired timestamps, or nothing', () => {
    assert.deepEqual(deltaDocument(content, 4, T, 'c'), { version: 4, timestamp: T, state: { color: 'RED' }, metadata: { color: { timestamp: 10 } }, clientToken: 'c' });
    assert.equal(deltaDocument({ state: { reported: { a: 1 } }, metadata: { reported: { a: { timestamp: 1 } } } }, 1, T), undefined);
  });

  it('documents message: previous left out for a new shadow, no delta anywhere', () => {
    const created = documentsDocument(undefined, { content, version: 1 }, T);
    assert.deepEqual(Object.keys(created), ['current', 'timestamp']);
    assert.deepEqual(created.current, { state: content.state, metadata: content.metadata, version: 1 });
    const next = documentsDocument({ content: { state: {}, metadata: {} }, version: 1 }, { content, version: 2 }, T, 'c');
    assert.deepEqual(next.previous, { state: {}, metadata: {}, version: 1 });
    assert.equal(next.clientToken, 'c');
  });
});
