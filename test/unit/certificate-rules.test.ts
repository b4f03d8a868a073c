import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certificateTransition } from '../../src/domain/certificates/certificate-rules.js';
import { DomainError } from '../../src/domain/errors.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof DomainError ? err.errorName : 'other';
  }
  return 'allowed';
};

describe('certificate status transitions (device-security.md §3.2)', () => {
  it('ACTIVE, INACTIVE and REVOKED move freely except out of REVOKED; the same status is a no-op', () => {
    const table: [string, string, string][] = [
      ['ACTIVE', 'ACTIVE', 'same'], ['ACTIVE', 'INACTIVE', 'change'], ['ACTIVE', 'REVOKED', 'change'],
      ['INACTIVE', 'ACTIVE', 'change'], ['INACTIVE', 'INACTIVE', 'same'], ['INACTIVE', 'REVOKED', 'change'],
      ['REVOKED', 'REVOKED', 'same'],
    ];
    for (const [from, to, expected] of table) assert.equal(certificateTransition('id', from, to), expected, `${from} → ${to}`);
    assert.equal(refusal(() => certificateTransition('id', 'REVOKED', 'ACTIVE')), 'CertificateStateException');
    assert.equal(refusal(() => certificateTransition('id', 'REVOKED', 'INACTIVE')), 'CertificateStateException');
  });

  it('AWS\'s internal states cannot be set', () => {
    for (const to of ['PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION']) {
      for (const from of ['ACTIVE', 'INACTIVE', 'REVOKED']) assert.equal(refusal(() => certificateTransition('id', from, to)), 'InvalidRequestException');
    }
  });
});
