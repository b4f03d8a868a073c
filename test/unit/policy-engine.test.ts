import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import { defaultDevicePolicy } from '../../src/domain/policies/default-policies.js';
import { compilePolicyDocument } from '../../src/domain/policies/policy-document.js';
import { bindPolicies } from '../../src/domain/policies/policy-engine.js';
import type { ConnectionFacts } from '../../src/domain/policies/policy-variables.js';

const A = 'arn:aws:iot:us-east-1:123456789012';
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const policy = (...statements: object[]) => compilePolicyDocument('p', doc(...statements));
const thing = (name: string, extra: Partial<NonNullable<ConnectionFacts['thing']>> = {}): ConnectionFacts => ({ clientId: name, thing: { name, attributes: {}, attached: true, ...extra } });

function malformed(document: string): void {
  assert.throws(() => compilePolicyDocument('p', document), (e: unknown) => e instanceof DomainError && e.errorName === 'MalformedPolicyException' && /^Policy document is Malformed/.test(e.message));
}

describe('policy documents', () => {
  it('refuses what AWS refuses', () => {
    malformed('');
    malformed('not json');
    malformed('[]');
    malformed(JSON.stringify({ Version: '2012-10-17' }));
    malformed(JSON.stringify({ Version: '2012-10-17', Statement: [] }));
    malformed(doc({ Effect: 'Maybe', Action: 'iot:Connect', Resource: '*' }));
    malformed(doc({ Effect: 'Allow', Resource: '*' }));
    malformed(doc({ Effect: 'Allow', Action: 'iot:Connect' }));
    malformed(doc({ Effect: 'Allow', Action: 'iot:Connect', NotAction: 'iot:Publish', Resource: '*' }));
    malformed(doc({ Effect: 'Allow', Action: [], Resource: '*' }));
    malformed(doc({ Effect: 'Allow', Action: 'connect', Resource: '*' }));
    malformed(doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Colour: 'red' }));
    malformed(doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${A}:client/\${iot:ClientId` }));
    malformed(doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { Maybe: { 'iot:ClientId': 'x' } } }));
    malformed(JSON.stringify({ Version: '2099-01-01', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }));
    malformed(doc({ Effect: 'Allow', Action: 'iot:Publish', Resource: [`${A}:topic/${'x'.repeat(2048)}`] }));
  });

  it('takes a single statement object, strings or lists, and whitespace beyond 2048 characters', () => {
    assert.equal(compilePolicyDocument('p', JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'iot:*', Resource: '*' } })).statements.length, 1);
    const spaced = doc({ Effect: 'Allow', Action: 'iot:*', Resource: '*' }) + ' '.repeat(3000);
    assert.equal(compilePolicyDocument('p', spaced).statements.length, 1);
  });
});

describe('the policy engine', () => {
  it('denies by default and lets an explicit Deny override any Allow', () => {
    const p = policy(
      { Effect: 'Allow', Action: 'iot:*', Resource: '*' },
      { Effect: 'Deny', Action: 'iot:Publish', Resource: `${A}:topic/secret/*` },
    );
    const b = bindPolicies([p], { clientId: 'c' });
    assert.equal(b.decide('iot:Publish', `${A}:topic/open`), 'ALLOWED');
    assert.equal(b.decide('iot:Publish', `${A}:topic/secret/x`), 'EXPLICIT_DENY');
    assert.equal(b.decide('iot:Receive', `${A}:topic/secret/x`), 'ALLOWED');
    assert.equal(bindPolicies([], { clientId: 'c' }).decide('iot:Connect', `${A}:client/c`), 'IMPLICIT_DENY');
    // Across policies too: the Deny of one beats the Allow of another.
    const deny = compilePolicyDocument('deny', doc({ Effect: 'Deny', Action: 'iot:Connect', Resource: '*' }));
    assert.deepEqual(bindPolicies([p, deny], { clientId: 'c' }).explain('iot:Connect', `${A}:client/c`), { decision: 'EXPLICIT_DENY', policy: 'deny' });
  });

  it('matches * across slashes and ? as one character; action names ignore case, resources do not', () => {
    const b = bindPolicies([policy({ Effect: 'Allow', Action: 'IOT:pub*', Resource: [`${A}:topic/a/*`, `${A}:topic/b/?`] })], { clientId: 'c' });
    assert.equal(b.decide('iot:Publish', `${A}:topic/a/x/y/z`), 'ALLOWED');
    assert.equal(b.decide('iot:Publish', `${A}:topic/b/1`), 'ALLOWED');
    assert.equal(b.decide('iot:Publish', `${A}:topic/b/12`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Publish', `${A}:topic/A/x`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/a/x`), 'IMPLICIT_DENY');
  });

  it('reads MQTT + and # literally, and $(*) as a literal star', () => {
    const b = bindPolicies([policy({ Effect: 'Allow', Action: 'iot:Subscribe', Resource: [`${A}:topicfilter/sensors/+/temp`, `${A}:topicfilter/star/$(*)`] })], { clientId: 'c' });
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/sensors/+/temp`), 'ALLOWED');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/sensors/room1/temp`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/sensors/#`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/star/*`), 'ALLOWED');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/star/x`), 'IMPLICIT_DENY');
  });

  it('tells topicfilter/ resources from topic/ ones', () => {
    const b = bindPolicies([policy({ Effect: 'Allow', Action: ['iot:Subscribe', 'iot:Receive'], Resource: `${A}:topicfilter/t/*` })], { clientId: 'c' });
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/t/x`), 'ALLOWED');
    assert.equal(b.decide('iot:Receive', `${A}:topic/t/x`), 'IMPLICIT_DENY');
  });

  it('substitutes the connection variables, literally, and voids a statement whose variable is unresolvable', () => {
    const p = policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${A}:client/\${iot:ClientId}` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${A}:topic/fleet/\${iot:Connection.Thing.ThingTypeName}/\${iot:Connection.Thing.Attributes[site]}/*` },
    );
    const b = bindPolicies([p], thing('dev-1', { typeName: 'sensor', attributes: { site: 'oslo' } }));
    assert.equal(b.decide('iot:Connect', `${A}:client/dev-1`), 'ALLOWED');
    assert.equal(b.decide('iot:Connect', `${A}:client/dev-2`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Publish', `${A}:topic/fleet/sensor/oslo/x`), 'ALLOWED');
    assert.equal(b.decide('iot:Publish', `${A}:topic/fleet/sensor/bergen/x`), 'IMPLICIT_DENY');
    // No attribute `site`: the Publish statement is void.
    assert.equal(bindPolicies([p], thing('dev-1', { typeName: 'sensor' })).decide('iot:Publish', `${A}:topic/fleet/sensor//x`), 'IMPLICIT_DENY');
    // A client id that is a wildcard matches only itself.
    const star = bindPolicies([p], { clientId: '*' });
    assert.equal(star.decide('iot:Connect', `${A}:client/*`), 'ALLOWED');
    assert.equal(star.decide('iot:Connect', `${A}:client/other`), 'IMPLICIT_DENY');
  });

  it('evaluates conditions on the connection: Bool IsAttached, StringEquals, StringLike, certificate names', () => {
    const p = policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: '*', Condition: { StringEquals: { 'iot:Connection.Thing.Attributes[tier]': ['gold', 'silver'] } } },
      { Effect: 'Deny', Action: 'iot:Publish', Resource: '*', Condition: { StringLike: { 'iot:ClientId': 'test-*' } } },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${A}:topicfilter/\${iot:Certificate.Subject.CommonName}/*` },
    );
    const gold = bindPolicies([p], { ...thing('dev-1', { attributes: { tier: 'gold' } }), certificate: { id: 'x', subject: { CommonName: ['cn-1'] } } });
    assert.equal(gold.decide('iot:Connect', `${A}:client/dev-1`), 'ALLOWED');
    assert.equal(gold.decide('iot:Publish', `${A}:topic/x`), 'ALLOWED');
    assert.equal(gold.decide('iot:Subscribe', `${A}:topicfilter/cn-1/a`), 'ALLOWED');
    assert.equal(bindPolicies([p], thing('dev-1', { attached: false })).decide('iot:Connect', `${A}:client/dev-1`), 'IMPLICIT_DENY');
    assert.equal(bindPolicies([p], thing('dev-1', { attributes: { tier: 'bronze' } })).decide('iot:Publish', `${A}:topic/x`), 'IMPLICIT_DENY');
    assert.equal(bindPolicies([p], thing('test-1', { attributes: { tier: 'gold' } })).decide('iot:Publish', `${A}:topic/x`), 'EXPLICIT_DENY');
  });

  it('fails closed on a condition it cannot evaluate: such an Allow grants nothing, such a Deny still denies', () => {
    const p = policy(
      { Effect: 'Allow', Action: 'iot:Publish', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: '*' },
      { Effect: 'Deny', Action: 'iot:Receive', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    );
    const b = bindPolicies([p], { clientId: 'c', sourceIp: '192.168.1.1' });
    assert.equal(b.decide('iot:Publish', `${A}:topic/x`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Receive', `${A}:topic/x`), 'EXPLICIT_DENY');
  });

  it('has NotAction and NotResource', () => {
    const b = bindPolicies([policy({ Effect: 'Allow', NotAction: 'iot:Connect', NotResource: `${A}:topic/private/*` })], { clientId: 'c' });
    assert.equal(b.decide('iot:Publish', `${A}:topic/x`), 'ALLOWED');
    assert.equal(b.decide('iot:Publish', `${A}:topic/private/x`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Connect', `${A}:client/c`), 'IMPLICIT_DENY');
  });

  it('default policies: aws allows nothing; own-thing only the thing\'s own topics, and only with a thing', () => {
    assert.equal(bindPolicies(defaultDevicePolicy('aws', 'us-east-1', '123456789012'), thing('dev-1')).decide('iot:Connect', `${A}:client/dev-1`), 'IMPLICIT_DENY');
    const own = defaultDevicePolicy('own-thing', 'us-east-1', '123456789012');
    const b = bindPolicies(own, thing('dev-1'));
    assert.equal(b.decide('iot:Connect', `${A}:client/dev-1`), 'ALLOWED');
    assert.equal(b.decide('iot:Publish', `${A}:topic/$aws/things/dev-1/jobs/get`), 'ALLOWED');
    assert.equal(b.decide('iot:Receive', `${A}:topic/$aws/things/dev-1/shadow/update/delta`), 'ALLOWED');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/$aws/things/dev-1/jobs/#`), 'ALLOWED');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/$aws/things/dev-1/`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Subscribe', `${A}:topicfilter/$aws/things/+/jobs/#`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Publish', `${A}:topic/$aws/things/dev-2/jobs/get`), 'IMPLICIT_DENY');
    assert.equal(b.decide('iot:Receive', `${A}:topic/$aws/things/dev-2/jobs/notify`), 'IMPLICIT_DENY');
    // No thing: nothing at all, not even the connection.
    assert.equal(bindPolicies(own, { clientId: 'ghost' }).decide('iot:Connect', `${A}:client/ghost`), 'IMPLICIT_DENY');
  });
});
