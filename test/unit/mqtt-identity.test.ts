import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certificateIdentity, clientIdIsThing, type AttachedThing } from '../../src/protocol/mqtt/identity.js';

const things = new Set(['dev-a', 'dev-b', 'dev-x']);
const lookup = async (name: string) => (things.has(name) ? { name, attributes: {} } : undefined);
const cert = { arn: `arn:aws:iot:us-east-1:123456789012:cert/${'a'.repeat(64)}`, facts: { id: 'a'.repeat(64) } };
const identity = (attached: AttachedThing[]) => certificateIdentity(lookup, async () => attached, clientIdIsThing(lookup));
const principal = async (id: ReturnType<typeof identity>, clientId: string, withCert = true) => {
  const d = await id.identify({ clientId, ...(withCert ? { certificate: cert } : {}) });
  assert.ok('principal' in d);
  return d.principal;
};

describe('device identity', () => {
  it('without a certificate: the client id names the thing, which counts as attached; no thing for an unknown id', async () => {
    const id = identity([]);
    assert.deepEqual((await principal(id, 'dev-a', false)).thing, { name: 'dev-a', attributes: {}, attached: true });
    assert.equal((await principal(id, 'nobody', false)).thing, undefined);
    assert.equal((await principal(id, '$bad/+', false)).thing, undefined);
  });

  it('with a certificate: its attached thing named by the client id, its exclusive thing, or an unattached thing', async () => {
    const shared = identity([{ thingName: 'dev-a', exclusive: false }]);
    const a = await principal(shared, 'dev-a');
    assert.equal(a.certificateArn, cert.arn);
    assert.deepEqual(a.thing, { name: 'dev-a', attributes: {}, attached: true });
    assert.deepEqual((await principal(shared, 'dev-b')).thing, { name: 'dev-b', attributes: {}, attached: false });
    const exclusive = identity([{ thingName: 'dev-x', exclusive: true }]);
    assert.deepEqual((await principal(exclusive, 'any-client-id')).thing, { name: 'dev-x', attributes: {}, attached: true });
  });
});
