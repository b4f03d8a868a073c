import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';

describe('SBOM validation and shadow limit settings', () => {
  it('leaves them out when unset, so the components keep their defaults', () => {
    const config = resolveConfig({}, {});
    assert.equal(config.sbomValidation, undefined);
    assert.equal(config.shadows, undefined);
  });

  it('reads FLEETJOBS_* variables, and flags win over them', () => {
    const env = {
      FLEETJOBS_SBOM_MAX_ARCHIVE_BYTES: '1048576',
      FLEETJOBS_SBOM_MAX_FILE_BYTES: '65536',
      FLEETJOBS_SBOM_MAX_ENTRIES: '10',
      FLEETJOBS_SBOM_MAX_CONCURRENT_VALIDATIONS: '4',
      FLEETJOBS_SBOM_MAX_QUEUED_VALIDATIONS: '7',
      FLEETJOBS_SHADOW_MAX_STATE_BYTES: '4096',
      FLEETJOBS_SHADOW_MAX_DEPTH: '5',
      FLEETJOBS_SHADOW_TOMBSTONE_SECONDS: '3600',
    };
    const fromEnv = resolveConfig({}, env);
    assert.deepEqual(fromEnv.sbomValidation, { maxArchiveBytes: 1048576, maxFileBytes: 65536, maxEntries: 10, maxConcurrentValidations: 4, maxQueuedValidations: 7 });
    assert.deepEqual(fromEnv.shadows, { maxStateBytes: 4096, maxDepth: 5, tombstoneMs: 3_600_000 });

    // commander hands flags over as strings.
    const fromFlags = resolveConfig({ sbomMaxQueuedValidations: '2', sbomMaxEntries: '3', shadowMaxDepth: '9', shadowTombstoneSeconds: '1' }, env);
    assert.equal(fromFlags.sbomValidation?.maxQueuedValidations, 2);
    assert.equal(fromFlags.sbomValidation?.maxEntries, 3);
    assert.equal(fromFlags.sbomValidation?.maxFileBytes, 65536);
    assert.deepEqual(fromFlags.shadows, { maxStateBytes: 4096, maxDepth: 9, tombstoneMs: 1000 });

    assert.deepEqual(resolveConfig({}, { FLEETJOBS_MAX_PACKAGES: '50' }).catalogQuotas, { maxPackages: 50 });
    assert.deepEqual(resolveConfig({ maxVersionsPerPackage: '7' }, { FLEETJOBS_MAX_VERSIONS_PER_PACKAGE: '9' }).catalogQuotas, { maxVersionsPerPackage: 7 });
    assert.equal(resolveConfig({}, {}).catalogQuotas, undefined);
    assert.throws(() => resolveConfig({ maxPackages: '0' }, {}), ConfigError);

    assert.deepEqual(resolveConfig({ shadowMaxDepth: 3 }, {}).shadows, { maxDepth: 3 });
    assert.equal(resolveConfig({ shadowMaxDepth: 3 }, {}).sbomValidation, undefined);
  });

  it('refuses anything but a positive whole number, naming the setting', () => {
    const refused: [Parameters<typeof resolveConfig>[0], Record<string, string>, RegExp][] = [
      [{ sbomMaxEntries: '0' }, {}, /^invalid --sbom-max-entries \(FLEETJOBS_SBOM_MAX_ENTRIES\): 0 \(a positive whole number expected\)$/],
      [{}, { FLEETJOBS_SBOM_MAX_QUEUED_VALIDATIONS: '-1' }, /--sbom-max-queued-validations.*: -1/],
      [{}, { FLEETJOBS_SBOM_MAX_ARCHIVE_BYTES: '1.5' }, /--sbom-max-archive-bytes.*: 1\.5/],
      [{ sbomMaxFileBytes: '64MB' }, {}, /--sbom-max-file-bytes.*: 64MB/],
      [{ sbomMaxConcurrentValidations: 'two' }, {}, /--sbom-max-concurrent-validations/],
      [{}, { FLEETJOBS_SHADOW_MAX_STATE_BYTES: '1e3' }, /--shadow-max-state-bytes.*: 1e3/],
      [{}, { FLEETJOBS_SHADOW_MAX_DEPTH: 'deep' }, /--shadow-max-depth \(FLEETJOBS_SHADOW_MAX_DEPTH\): deep/],
      [{ shadowTombstoneSeconds: '99999999999999999' }, {}, /--shadow-tombstone-seconds/],
    ];
    for (const [flags, env, message] of refused) {
      assert.throws(() => resolveConfig(flags, env), (err: unknown) => err instanceof ConfigError && message.test(err.message), `${JSON.stringify({ flags, env })}`);
    }
  });
});
