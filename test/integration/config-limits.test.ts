import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreatePackageCommand, CreatePackageVersionCommand } from '@aws-sdk/client-iot';
import { DeleteThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { DEFAULT_SBOM_VALIDATION_SETTINGS } from '../../src/workers/sbom-validation-worker.js';
import { testBackends } from '../support/backends.js';
import { decodeShadow, iotDataClient } from '../support/iot-data.js';
import { expectAwsError, startTestServer } from '../support/server.js';

/**
 * Operator settings (FLEETJOBS_* variables, as resolveConfig reads them) reach the running server;
 * limits a test passes as ServerOptions still win over them.
 */
for (const backend of await testBackends()) {
  describe(`limit settings from the environment (${backend.name})`, { skip: backend.skip }, () => {
    it('applies the shadow limits and the tombstone window', async () => {
      const t = await startTestServer(backend, {}, { FLEETJOBS_SHADOW_MAX_STATE_BYTES: '40', FLEETJOBS_SHADOW_MAX_DEPTH: '2', FLEETJOBS_SHADOW_TOMBSTONE_SECONDS: '60' });
      const client = iotDataClient(t);
      try {
        const put = (doc: unknown) => client.send(new UpdateThingShadowCommand({ thingName: 'cfg', payload: JSON.stringify(doc) }));
        await expectAwsError(put({ state: { desired: { text: 'x'.repeat(40) } } }), 'RequestEntityTooLargeException', { status: 413 });
        await expectAwsError(put({ state: { desired: { a: { b: { c: 1 } } } } }), 'InvalidRequestException', { status: 400, message: 'too many levels of nesting' });
        await put({ state: { desired: { a: { b: 1 } } } });
        await client.send(new DeleteThingShadowCommand({ thingName: 'cfg' }));
        t.clock.advance(59_000);
        assert.equal(decodeShadow((await put({ state: { desired: { a: 1 } } })).payload).version, 2, 'within the window the version continues');
        await client.send(new DeleteThingShadowCommand({ thingName: 'cfg' }));
        t.clock.advance(61_000);
        assert.equal(decodeShadow((await put({ state: { desired: { a: 1 } } })).payload).version, 1, 'after 60 s the version starts over');
      } finally {
        client.destroy();
        await t.close();
      }
    });

    it('applies the catalog quotas: CreatePackage and CreatePackageVersion answer 402 beyond them', async () => {
      const t = await startTestServer(backend, {}, { FLEETJOBS_MAX_PACKAGES: '2', FLEETJOBS_MAX_VERSIONS_PER_PACKAGE: '1' });
      try {
        await t.iot.send(new CreatePackageCommand({ packageName: 'q1' }));
        await t.iot.send(new CreatePackageCommand({ packageName: 'q2' }));
        await expectAwsError(t.iot.send(new CreatePackageCommand({ packageName: 'q3' })), 'ServiceQuotaExceededException', { status: 402 });
        await t.iot.send(new CreatePackageVersionCommand({ packageName: 'q1', versionName: '1' }));
        await expectAwsError(t.iot.send(new CreatePackageVersionCommand({ packageName: 'q1', versionName: '2' })), 'ServiceQuotaExceededException', {
          status: 402, message: 'Package q1 already has the maximum of 1 versions.',
        });
      } finally {
        await t.close();
      }
    });

    it('applies the SBOM validation limits, with test options taking priority', async () => {
      const t = await startTestServer(backend, { sbomValidation: { maxEntries: 5 } }, {
        FLEETJOBS_SBOM_MAX_ARCHIVE_BYTES: '2048',
        FLEETJOBS_SBOM_MAX_FILE_BYTES: '1024',
        FLEETJOBS_SBOM_MAX_ENTRIES: '3',
        FLEETJOBS_SBOM_MAX_CONCURRENT_VALIDATIONS: '1',
        FLEETJOBS_SBOM_MAX_QUEUED_VALIDATIONS: '9',
      });
      try {
        assert.deepEqual(t.server.sbomValidation.settings, {
          ...DEFAULT_SBOM_VALIDATION_SETTINGS,
          maxArchiveBytes: 2048,
          maxFileBytes: 1024,
          maxEntries: 5,
          maxConcurrentValidations: 1,
          maxQueuedValidations: 9,
        });
      } finally {
        await t.close();
      }
    });
  });
}
