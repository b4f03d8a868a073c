import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { mosquittoAcl } from '../../src/cli/mosquitto-acl.js';

describe('MQTT door settings', () => {
  it('embeds a broker on 1883 unless told otherwise', () => {
    const c = resolveConfig({}, {});
    assert.equal(c.mqttPort, 1883);
    assert.equal(c.mqttBroker, undefined);
    assert.equal(c.mqttExposed, false, 'loopback by default');
    assert.equal(resolveConfig({ mqttPort: 0 }, {}).mqttPort, 0);
    assert.equal(resolveConfig({}, { FLEETJOBS_MQTT_PORT: '18830' }).mqttPort, 18830);
    assert.equal(resolveConfig({ mqtt: false }, {}).mqttPort, undefined);
    assert.equal(resolveConfig({}, { FLEETJOBS_NO_MQTT: '1' }).mqttPort, undefined);
    assert.equal(resolveConfig({ host: '0.0.0.0' }, {}).mqttExposed, true, 'beyond loopback without device credentials: a warning at start');
  });

  it('connects to an external broker with --mqtt-url, and refuses --mqtt-port beside it', () => {
    assert.deepEqual(resolveConfig({ mqttUrl: 'mqtt://broker:1883', mqttUsername: 'fj', mqttPassword: 'pw' }, {}).mqttBroker, { url: 'mqtt://broker:1883', username: 'fj', password: 'pw' });
    assert.deepEqual(resolveConfig({}, { FLEETJOBS_MQTT_URL: 'mqtts://broker:8883', FLEETJOBS_MQTT_USERNAME: 'fj' }).mqttBroker, { url: 'mqtts://broker:8883', username: 'fj' });
    assert.equal(resolveConfig({ mqttUrl: 'mqtt://broker:1883' }, {}).mqttPort, undefined);
    assert.throws(() => resolveConfig({ mqttUrl: 'mqtt://broker:1883', mqttPort: 1884 }, {}), (err: Error) => err instanceof ConfigError && /--mqtt-port .* --mqtt-url .* give one of them/.test(err.message));
    assert.throws(() => resolveConfig({ mqttUrl: 'mqtt://broker:1883' }, { FLEETJOBS_MQTT_PORT: '1884' }), ConfigError);
    assert.throws(() => resolveConfig({ mqttUrl: 'http://broker' }, {}), /mqtt:\/\/host:port or mqtts:\/\/host:port/);
    assert.throws(() => resolveConfig({ mqttUrl: 'mqtt://broker/path' }, {}), ConfigError);
    assert.throws(() => resolveConfig({ mqttUsername: 'fj' }, {}), /add --mqtt-url/);
    assert.throws(() => resolveConfig({ mqttUrl: 'mqtt://b:1', mqttPassword: 'pw' }, {}), /needs --mqtt-username/);
  });

  it('prints a Mosquitto ACL that pins each client to its own topics and gives the backend all', () => {
    const acl = mosquittoAcl('fj-backend').split('\n');
    assert.ok(acl.includes('pattern readwrite $aws/things/%c/#'));
    const user = acl.indexOf('user fj-backend');
    assert.ok(user > acl.indexOf('pattern readwrite $aws/things/%c/#'));
    assert.equal(acl[user + 1], 'topic readwrite $aws/#');
  });
});
