import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';

describe('TLS settings', () => {
  it('is off by default; --tls, FLEETJOBS_TLS=1 or a certificate turn it on with the MQTT TLS listener on 8883', () => {
    assert.equal(resolveConfig({}, {}).tls, undefined);
    assert.deepEqual(resolveConfig({ tls: true }, {}).tls, { mqttTlsPort: 8883 });
    assert.deepEqual(resolveConfig({}, { FLEETJOBS_TLS: '1', FLEETJOBS_MQTT_TLS_PORT: '0' }).tls, { mqttTlsPort: 0 });
    assert.deepEqual(resolveConfig({ tlsCert: 'c.pem', tlsKey: 'k.pem' }, {}).tls, { certFile: 'c.pem', keyFile: 'k.pem', mqttTlsPort: 8883 });
    assert.deepEqual(resolveConfig({}, { FLEETJOBS_TLS_CERT: 'c.pem', FLEETJOBS_TLS_KEY: 'k.pem' }).tls?.certFile, 'c.pem');
    assert.deepEqual(resolveConfig({ tls: true, mqtt: false }, {}).tls, {}, 'HTTPS only without the MQTT door');
    assert.deepEqual(resolveConfig({ tls: true, mqttUrl: 'mqtts://broker:8883' }, {}).tls, {}, 'an external broker has its own TLS');
  });

  it('refuses half a pair, a bad port, and --mqtt-tls-port without TLS', () => {
    assert.throws(() => resolveConfig({ tlsCert: 'c.pem' }, {}), (e: Error) => e instanceof ConfigError && /--tls-cert and --tls-key/.test(e.message));
    assert.throws(() => resolveConfig({ deviceCaKey: 'k.pem' }, {}), /--device-ca-cert and --device-ca-key/);
    assert.throws(() => resolveConfig({ tls: true, mqttTlsPort: 'x' }, {}), /invalid MQTT TLS port/);
    assert.throws(() => resolveConfig({ tls: true, mqttTlsPort: 70000 }, {}), /invalid MQTT TLS port/);
    assert.throws(() => resolveConfig({ mqttTlsPort: 8883 }, {}), /needs TLS/);
  });

  it('names the device CA files with or without TLS', () => {
    assert.deepEqual(resolveConfig({ deviceCaCert: 'ca.pem', deviceCaKey: 'ca.key' }, {}).deviceCa, { certFile: 'ca.pem', keyFile: 'ca.key' });
    assert.deepEqual(resolveConfig({}, { FLEETJOBS_TLS: '1', FLEETJOBS_DEVICE_CA_CERT: 'a', FLEETJOBS_DEVICE_CA_KEY: 'b' }).deviceCa, { certFile: 'a', keyFile: 'b' });
  });
});
