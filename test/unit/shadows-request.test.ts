import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import { parseUpdateRequest } from '../../src/domain/shadows/request-document.js';

const opts = { maxDepth: 8, packageShadow: false };

function rejects(payload: string | Uint8Array, name: string, message: string, o = opts): void {
  assert.throws(() => parseUpdateRequest(payload, o), (err: unknown) => {
    assert.ok(err instanceof DomainError, String(err));
    assert.equal(err.errorName, name);
    assert.equal(err.message, message);
    return true;
  });
}

/** `levels` nested objects inside a section (the section object itself is level 1). */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { n: v };
  return v;
}

describe('shadow update request validation (things-and-shadows.md §6.1)', () => {
  it('accepts the documented shapes and ignores other members', () => {
    assert.deepEqual(parseUpdateRequest('{"state":{"desired":{"a":1}},"clientToken":"t","version":3,"thingName":"x","metadata":{}}', opts),
      { state: { desired: { a: 1 } }, clientToken: 't', version: 3 });
    assert.deepEqual(parseUpdateRequest('{"state":null}', opts), { state: null });
    assert.deepEqual(parseUpdateRequest('{"state":{"reported":null}}', opts), { state: { reported: null } });
  });

  it('checks encoding, then JSON', () => {
    rejects(new Uint8Array([0x7b, 0xff, 0x7d]), 'UnsupportedDocumentEncodingException', 'Unsupported documented encoding; supported encoding is UTF-8');
    rejects('', 'InvalidRequestException', 'Invalid JSON');
    rejects('{"state":', 'InvalidRequestException', 'Invalid JSON');
  });

  it('checks state, its members, then the sections', () => {
    rejects('{}', 'InvalidRequestException', 'Missing required node: state');
    rejects('{"state":[]}', 'InvalidRequestException', 'State node must be an object');
    rejects('{"state":{"delta":{}}}', 'InvalidRequestException', 'State contains an invalid node');
    rejects('{"state":{"desired":1}}', 'InvalidRequestException', 'Desired node must be an object');
    rejects('{"state":{"reported":[1]}}', 'InvalidRequestException', 'Reported node must be an object');
    // The invalid node wins over a bad section shape (step 3 before step 4).
    rejects('{"state":{"desired":1,"delta":{}}}', 'InvalidRequestException', 'State contains an invalid node');
  });

  it('limits depth counted inside desired/reported', () => {
    assert.doesNotThrow(() => parseUpdateRequest(JSON.stringify({ state: { desired: nested(8) } }), opts));
    rejects(JSON.stringify({ state: { reported: nested(9) } }), 'InvalidRequestException', 'JSON contains too many levels of nesting; maximum is 6');
    // Arrays count as levels.
    assert.doesNotThrow(() => parseUpdateRequest(JSON.stringify({ state: { desired: { a: [[[[[[[1]]]]]]] } } }), opts));
    rejects(JSON.stringify({ state: { desired: { a: [[[[[[[[1]]]]]]]] } } }), 'InvalidRequestException', 'JSON contains too many levels of nesting; maximum is 6');
    // A hostile depth does not blow the stack.
    rejects(`{"state":{"desired":{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}}}`, 'InvalidRequestException', 'JSON contains too many levels of nesting; maximum is 6');
  });

  it('refuses null inside arrays, then checks clientToken, then version', () => {
    rejects('{"state":{"desired":{"a":[1,null]}}}', 'InvalidRequestException', 'Invalid JSON');
    rejects(JSON.stringify({ state: {}, clientToken: 'x'.repeat(65) }), 'InvalidRequestException', 'Invalid clientToken');
    rejects(JSON.stringify({ state: {}, clientToken: 'é'.repeat(33) }), 'InvalidRequestException', 'Invalid clientToken');
    rejects(JSON.stringify({ state: {}, clientToken: 5 }), 'InvalidRequestException', 'Invalid clientToken');
    assert.equal(parseUpdateRequest(JSON.stringify({ state: {}, clientToken: 'x'.repeat(64) }), opts).clientToken, 'x'.repeat(64));
    rejects('{"state":{},"version":-1}', 'InvalidRequestException', 'Invalid version');
    rejects('{"state":{},"version":1.5}', 'InvalidRequestException', 'Invalid version');
    rejects('{"state":{},"version":"1"}', 'InvalidRequestException', 'Invalid version');
    rejects('{"state":{},"version":"1","clientToken":7}', 'InvalidRequestException', 'Invalid clientToken');
  });

  it('allows only version and attributes per package in $package', () => {
    const pkg = { maxDepth: 8, packageShadow: true };
    assert.doesNotThrow(() => parseUpdateRequest('{"state":{"reported":{"p":{"version":"1","attributes":{"k":"v"}},"q":null}}}', pkg));
    rejects('{"state":{"reported":{"p":{"version":"1","description":"x"}}}}', 'InvalidRequestException', 'State contains an invalid node', pkg);
    rejects('{"state":{"reported":{"p":"1.0"}}}', 'InvalidRequestException', 'State contains an invalid node', pkg);
    // The same document is fine in any other shadow.
    assert.doesNotThrow(() => parseUpdateRequest('{"state":{"reported":{"p":{"version":"1","description":"x"}}}}', opts));
  });
});
