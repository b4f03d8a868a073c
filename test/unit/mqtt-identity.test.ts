import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { thingOfConnection } from '../../src/domain/certificates/certificate-identity.js';
import { clientIdIsThing } from '../../src/protocol/mqtt/identity.js';

const things = new Set(['dev-a', 'dev-b', 'dev-x']);
const lookup = async (name: string) => (things.has(name) ? { name, attributes: {} } : undefined);

describe('device identity', () => {
  it('without a certificate: the client id names the thing, which counts as attached; no thing for an unknown id', async () => {
    const id = clientIdIsThing(lookup);
    const principal = async (clientId: string) => {
      const d = await id.identify({ clientId });
      assert.ok('principal' in d);
      return d.principal;
    };
    assert.deepEqual((await principal('dev-a')).thing, { name: 'dev-a', attributes: {}, attached: true });
    assert.equal((await principal('nobody')).thing, undefined);
    assert.equal((await principal('$bad/+')).thing, undefined);
  });

  it('with a certificate: its attached thing named by the client id, its exclusive thing, or an unattached thing', () => {
    const shared = [{ thingName: 'dev-a', exclusive: false }];
    assert.deepEqual(thingOfConnection('dev-a', shared), { name: 'dev-a', attached: true });
    assert.deepEqual(thingOfConnection('dev-b', shared), { name: 'dev-b', attached: false });
    assert.deepEqual(thingOfConnection('any-client-id', [{ thingName: 'dev-x', exclusive: true }]), { name: 'dev-x', attached: true });
    assert.deepEqual(thingOfConnection('dev-a', [{ thingName: 'dev-x', exclusive: true }, { thingName: 'dev-a', exclusive: false }]), { name: 'dev-a', attached: true });
    assert.equal(thingOfConnection('$bad/+', shared), undefined);
  });
});
