import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataPlaneActions, decideAny } from '../../src/domain/policies/data-plane-actions.js';
import { defaultDevicePolicy } from '../../src/domain/policies/default-policies.js';
import { compilePolicyDocument } from '../../src/domain/policies/policy-document.js';
import { bindPolicies } from '../../src/domain/policies/policy-engine.js';
import type { ConnectionFacts } from '../../src/domain/policies/policy-variables.js';

const A = 'arn:aws:iot:us-east-1:123456789012';
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
/** An HTTPS request's facts: no client id, the thing it acts for. */
const https = (name: string, attached = true): ConnectionFacts => ({ thing: { name, attributes: {}, attached } });

describe('HTTPS device-plane actions (decision 0048)', () => {
  it('names the jobs actions under both prefixes and the shadow actions under iot:, and nothing else', () => {
    assert.deepEqual(dataPlaneActions('UpdateJobExecution'), ['iot:UpdateJobExecution', 'iotjobsdata:UpdateJobExecution']);
    assert.deepEqual(dataPlaneActions('ListNamedShadowsForThing'), ['iot:ListNamedShadowsForThing']);
    assert.equal(dataPlaneActions('CreateJob'), undefined);
  });

  it('an explicit Deny under either name wins over an Allow under the other', () => {
    const p = bindPolicies([compilePolicyDocument('p', doc(
      { Effect: 'Allow', Action: 'iot:*', Resource: '*' },
      { Effect: 'Deny', Action: 'iotjobsdata:UpdateJobExecution', Resource: `${A}:thing/t1` },
    ))], https('t1'));
    assert.equal(decideAny(p, dataPlaneActions('UpdateJobExecution')!, `${A}:thing/t1`).decision, 'EXPLICIT_DENY');
    assert.equal(decideAny(p, dataPlaneActions('GetPendingJobExecutions')!, `${A}:thing/t1`).decision, 'ALLOWED');
    assert.equal(decideAny(bindPolicies([], https('t1')), dataPlaneActions('GetThingShadow')!, `${A}:thing/t1`).decision, 'IMPLICIT_DENY');
  });

  it('own-thing grants an attached thing its jobs and shadows, named ones included, and nothing of another thing', () => {
    const own = defaultDevicePolicy('own-thing', 'us-east-1', '123456789012');
    const p = bindPolicies(own, https('t1'));
    for (const op of ['DescribeJobExecution', 'StartNextPendingJobExecution', 'UpdateThingShadow', 'ListNamedShadowsForThing']) {
      assert.equal(decideAny(p, dataPlaneActions(op)!, `${A}:thing/t1`).decision, 'ALLOWED', op);
    }
    assert.equal(decideAny(p, dataPlaneActions('GetThingShadow')!, `${A}:thing/t1/cfg`).decision, 'ALLOWED');
    assert.equal(decideAny(p, dataPlaneActions('GetThingShadow')!, `${A}:thing/t2`).decision, 'IMPLICIT_DENY');
    assert.equal(decideAny(p, dataPlaneActions('GetThingShadow')!, `${A}:thing/t10`).decision, 'IMPLICIT_DENY');
    assert.equal(decideAny(bindPolicies(own, https('t1', false)), dataPlaneActions('GetThingShadow')!, `${A}:thing/t1`).decision, 'IMPLICIT_DENY');
    assert.equal(defaultDevicePolicy('aws', 'us-east-1', '123456789012').length, 0);
  });

  it('${iot:ClientId} resolves to nothing over HTTPS: its statement grants nothing', () => {
    const p = bindPolicies([compilePolicyDocument('p', doc({ Effect: 'Allow', Action: 'iot:GetThingShadow', Resource: `${A}:thing/\${iot:ClientId}` }))], https('t1'));
    assert.equal(decideAny(p, ['iot:GetThingShadow'], `${A}:thing/t1`).decision, 'IMPLICIT_DENY');
  });
});
