import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newVersionId } from '../../src/objects/stored-object.js';

describe('S3 version ids', () => {
  it('are 32 characters of [A-Za-z0-9._], never a "-" the AWS CLI would read as an option', () => {
    const ids = Array.from({ length: 2000 }, () => newVersionId());
    for (const id of ids) assert.match(id, /^[A-Za-z0-9._]{32}$/);
    assert.equal(new Set(ids).size, ids.length, 'no two alike');
  });
});
