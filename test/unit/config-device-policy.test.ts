import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';

describe('--default-device-policy', () => {
  it('is own-thing unless told aws, by flag or FLEETJOBS_DEFAULT_DEVICE_POLICY, and refuses anything else', () => {
    assert.equal(resolveConfig({}, {}).defaultDevicePolicy, 'own-thing');
    assert.equal(resolveConfig({ defaultDevicePolicy: 'aws' }, {}).defaultDevicePolicy, 'aws');
    assert.equal(resolveConfig({}, { FLEETJOBS_DEFAULT_DEVICE_POLICY: 'aws' }).defaultDevicePolicy, 'aws');
    assert.equal(resolveConfig({ defaultDevicePolicy: 'own-thing' }, { FLEETJOBS_DEFAULT_DEVICE_POLICY: 'aws' }).defaultDevicePolicy, 'own-thing');
    assert.throws(() => resolveConfig({ defaultDevicePolicy: 'open' }, {}), (e: unknown) => e instanceof ConfigError && /invalid default device policy: open \(aws or own-thing\)/.test(e.message));
  });
});
