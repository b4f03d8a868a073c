import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { validateSbomFile } from '../../src/domain/sbom/validate-file.js';
import { SbomValidationThreads } from '../../src/workers/sbom-validation-threads.js';
import { json, minimalCycloneDx, minimalSpdx, npmSbom } from '../support/sbom-fixtures.js';

const silent = pino({ level: 'silent' });

describe('SBOM validation threads', () => {
  it('give the same results as validating in process, for valid and invalid files', async () => {
    const threads = new SbomValidationThreads(2, 60_000, silent);
    try {
      const files: [string, Buffer][] = [
        ['npm.spdx.json', Buffer.from(await npmSbom('spdx'))],
        ['npm.cdx.json', Buffer.from(await npmSbom('cyclonedx'))],
        ['bad.json', json({ ...minimalSpdx(), dataLicense: 'MIT' })],
        ['small.json', Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.6"}')],
        ['text.txt', Buffer.from('hello')],
      ];
      const inThreads = await Promise.all(files.map(([name, bytes]) => threads.validate(name, Buffer.from(bytes))));
      assert.deepEqual(inThreads, files.map(([name, bytes]) => validateSbomFile(name, bytes)));
      assert.deepEqual(inThreads.map((r) => r.validationResult), ['SUCCEEDED', 'SUCCEEDED', 'FAILED', 'SUCCEEDED', 'FAILED']);
    } finally {
      await threads.close();
    }
  });

  it('fail a file that takes longer than the timeout and carry on with a fresh thread', async () => {
    // 1 ms is less than any thread needs to start and parse; the verdict does not depend on timing.
    const threads = new SbomValidationThreads(1, 1, silent);
    try {
      const slow = await threads.validate('slow.json', json(minimalCycloneDx()));
      assert.deepEqual(slow, { fileName: 'slow.json', validationResult: 'FAILED', errorMessage: 'The file could not be validated within 0 seconds.' });
    } finally {
      await threads.close();
    }
    const threads2 = new SbomValidationThreads(1, 60_000, silent);
    try {
      assert.equal((await threads2.validate('ok.json', json(minimalCycloneDx()))).validationResult, 'SUCCEEDED');
    } finally {
      await threads2.close();
    }
  });

  it('reject validations in progress when closed', async () => {
    const threads = new SbomValidationThreads(1, 60_000, silent);
    const pending = assert.rejects(threads.validate('a.json', json(minimalSpdx())), /closed/);
    await threads.close();
    await pending;
    await assert.rejects(threads.validate('b.json', json(minimalSpdx())), /closed/);
  });
});
