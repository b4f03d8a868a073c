import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateKeysAndCertificateCommand,
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteThingGroupCommand,
  DetachPolicyCommand,
  GetEffectivePoliciesCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListAttachedPoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListTagsForResourceCommand,
  ListTargetsForPolicyCommand,
  SetDefaultPolicyVersionCommand,
  TestAuthorizationCommand,
} from '@aws-sdk/client-iot';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const policyArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:policy/${name}`;
const arnOf = (resource: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${resource}`;
const groupArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${name}`;
/** A well-formed certificate ARN that names no certificate. */
const unknownCertArn = `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${'a'.repeat(64)}`;
const doc = (topic: string, effect = 'Allow') =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: effect, Action: 'iot:Publish', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:topic/${topic}` }] });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const cliSkip = awsCliSkipReason();

for (const backend of await testBackends()) {
  describe(`IoT policies (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    /** Real certificates (CreateKeysAndCertificate): policy targets must name registered ones. */
    const certs: string[] = [];
    const certArn = (n: number) => certs[n - 1];
    before(async () => {
      t = await startTestServer(backend);
      for (let i = 0; i < 4; i++) certs.push((await t.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }))).certificateArn!);
    });
    after(async () => t?.close());

    const create = (policyName: string, policyDocument = doc(policyName)) => t.iot.send(new CreatePolicyCommand({ policyName, policyDocument }));
    const attached = async (target: string, recursive?: boolean) =>
      ((await t.iot.send(new ListAttachedPoliciesCommand({ target, recursive }))).policies ?? []).map((p) => p.policyName);

    it('creates, gets and refuses duplicates, malformed documents and bad names as AWS does', async () => {
      const now = t.clock.now();
      const created = await t.iot.send(new CreatePolicyCommand({ policyName: 'p-basic', policyDocument: doc('a/*'), tags: [{ Key: 'team', Value: 'fw' }] }));
      assert.deepEqual(
        { name: created.policyName, arn: created.policyArn, version: created.policyVersionId, document: created.policyDocument },
        { name: 'p-basic', arn: policyArn('p-basic'), version: '1', document: doc('a/*') },
      );
      const got = await t.iot.send(new GetPolicyCommand({ policyName: 'p-basic' }));
      assert.equal(got.policyDocument, doc('a/*'));
      assert.equal(got.defaultVersionId, '1');
      assert.match(got.generationId!, UUID);
      assert.equal(got.creationDate?.getTime(), now);
      assert.equal(got.lastModifiedDate?.getTime(), now);
      assert.deepEqual((await t.iot.send(new ListTagsForResourceCommand({ resourceArn: policyArn('p-basic') }))).tags, [{ Key: 'team', Value: 'fw' }]);

      await expectAwsError(create('p-basic'), 'ResourceAlreadyExistsException', { status: 409, message: 'Policy cannot be created - name already exists (name=p-basic)' });
      await expectAwsError(create('p-bad', 'not json'), 'MalformedPolicyException', { status: 400, message: 'Policy document is Malformed' });
      await expectAwsError(create('p-bad', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect' }] })), 'MalformedPolicyException', { status: 400 });
      await expectAwsError(create('p-bad', doc('x'.repeat(2100))), 'MalformedPolicyException', { status: 400 });
      await expectAwsError(create('bad name!'), 'InvalidRequestException', { status: 400, message: 'policyName' });
      await expectAwsError(t.iot.send(new GetPolicyCommand({ policyName: 'p-bad' })), 'ResourceNotFoundException', { status: 404, message: 'Policy not found' });
    });

    it('keeps five versions at most, one default that cannot be deleted, and refuses to delete a versioned policy', async () => {
      await create('p-versions', doc('v1'));
      const v2 = await t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-versions', policyDocument: doc('v2') }));
      assert.deepEqual({ id: v2.policyVersionId, isDefault: v2.isDefaultVersion, arn: v2.policyArn }, { id: '2', isDefault: false, arn: policyArn('p-versions') });
      const v3 = await t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-versions', policyDocument: doc('v3'), setAsDefault: true }));
      assert.equal(v3.isDefaultVersion, true);
      assert.equal((await t.iot.send(new GetPolicyCommand({ policyName: 'p-versions' }))).policyDocument, doc('v3'));
      await t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-versions', policyDocument: doc('v4') }));
      await t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-versions', policyDocument: doc('v5') }));
      await expectAwsError(t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-versions', policyDocument: doc('v6') })), 'VersionsLimitExceededException', { status: 409, message: 'maximum number of versions (5)' });
      await expectAwsError(t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-versions', policyDocument: '{' })), 'MalformedPolicyException', { status: 400 });
      await expectAwsError(t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-none', policyDocument: doc('x') })), 'ResourceNotFoundException', { status: 404 });

      const versions = (await t.iot.send(new ListPolicyVersionsCommand({ policyName: 'p-versions' }))).policyVersions!;
      assert.deepEqual(versions.map((v) => [v.versionId, v.isDefaultVersion]), [['5', false], ['4', false], ['3', true], ['2', false], ['1', false]]);
      assert.ok(versions.every((v) => v.createDate instanceof Date));
      const v2got = await t.iot.send(new GetPolicyVersionCommand({ policyName: 'p-versions', policyVersionId: '2' }));
      assert.deepEqual({ doc: v2got.policyDocument, name: v2got.policyName, isDefault: v2got.isDefaultVersion }, { doc: doc('v2'), name: 'p-versions', isDefault: false });
      await expectAwsError(t.iot.send(new GetPolicyVersionCommand({ policyName: 'p-versions', policyVersionId: '9' })), 'ResourceNotFoundException', { status: 404 });

      await expectAwsError(t.iot.send(new DeletePolicyVersionCommand({ policyName: 'p-versions', policyVersionId: '3' })), 'DeleteConflictException', { status: 409, message: 'default version' });
      await t.iot.send(new SetDefaultPolicyVersionCommand({ policyName: 'p-versions', policyVersionId: '5' }));
      assert.equal((await t.iot.send(new GetPolicyCommand({ policyName: 'p-versions' }))).defaultVersionId, '5');
      await expectAwsError(t.iot.send(new SetDefaultPolicyVersionCommand({ policyName: 'p-versions', policyVersionId: '7' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new DeletePolicyCommand({ policyName: 'p-versions' })), 'DeleteConflictException', { status: 409 });
      for (const id of ['1', '2', '3', '4']) await t.iot.send(new DeletePolicyVersionCommand({ policyName: 'p-versions', policyVersionId: id }));
      // The next id is the highest one plus one.
      assert.equal((await t.iot.send(new CreatePolicyVersionCommand({ policyName: 'p-versions', policyDocument: doc('v6') }))).policyVersionId, '6');
      await t.iot.send(new DeletePolicyVersionCommand({ policyName: 'p-versions', policyVersionId: '6' }));
      await t.iot.send(new DeletePolicyCommand({ policyName: 'p-versions' }));
      await expectAwsError(t.iot.send(new GetPolicyCommand({ policyName: 'p-versions' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('attaches to certificates and thing groups, lists both ways (recursively for groups), and keeps the limits', async () => {
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'pol-root' }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'pol-child', parentGroupName: 'pol-root' }));
      for (const n of ['p-cert', 'p-root', 'p-child', 'p-child2', 'p-child3']) await create(n);
      await t.iot.send(new AttachPolicyCommand({ policyName: 'p-cert', target: certArn(1) }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'p-cert', target: certArn(1) }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'p-root', target: groupArn('pol-root') }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'p-child', target: groupArn('pol-child') }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'p-cert', target: groupArn('pol-child') }));

      assert.deepEqual(await attached(certArn(1)), ['p-cert']);
      assert.deepEqual(await attached(groupArn('pol-child')), ['p-cert', 'p-child']);
      assert.deepEqual(await attached(groupArn('pol-child'), true), ['p-cert', 'p-child', 'p-root']);
      assert.deepEqual((await t.iot.send(new ListTargetsForPolicyCommand({ policyName: 'p-cert' }))).targets, [certArn(1), groupArn('pol-child')].sort());

      // Two per thing group, ten per certificate: one more is LimitExceededException (410), and changes nothing.
      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p-child2', target: groupArn('pol-child') })), 'LimitExceededException', { status: 410 });
      assert.deepEqual(await attached(groupArn('pol-child')), ['p-cert', 'p-child']);
      for (let i = 0; i < 9; i++) {
        await create(`p-many-${i}`);
        await t.iot.send(new AttachPolicyCommand({ policyName: `p-many-${i}`, target: certArn(1) }));
      }
      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p-child2', target: certArn(1) })), 'LimitExceededException', { status: 410 });
      assert.equal((await attached(certArn(1))).length, 10);

      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p-nope', target: certArn(1) })), 'ResourceNotFoundException', { status: 404 });
      // A target must exist: a well-formed ARN of no registered certificate is refused, nothing attached.
      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p-cert', target: unknownCertArn })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new ListAttachedPoliciesCommand({ target: unknownCertArn })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p-child2', target: groupArn('no-such-group') })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p-child2', target: 'not-an-arn' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p-child2', target: `arn:aws:iot:${REGION}:${ACCOUNT}:thing/x` })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new ListAttachedPoliciesCommand({ target: groupArn('no-such-group') })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new ListTargetsForPolicyCommand({ policyName: 'p-nope' })), 'ResourceNotFoundException', { status: 404 });

      // Attached anywhere: DeletePolicy is a conflict until it is detached.
      await expectAwsError(t.iot.send(new DeletePolicyCommand({ policyName: 'p-root' })), 'DeleteConflictException', { status: 409 });
      await t.iot.send(new DetachPolicyCommand({ policyName: 'p-root', target: groupArn('pol-root') }));
      await t.iot.send(new DetachPolicyCommand({ policyName: 'p-root', target: groupArn('pol-root') }));
      await t.iot.send(new DeletePolicyCommand({ policyName: 'p-root' }));
      assert.deepEqual(await attached(groupArn('pol-child'), true), ['p-cert', 'p-child']);
      // A deleted group takes its attachments with it.
      await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'pol-child' }));
      assert.deepEqual((await t.iot.send(new ListTargetsForPolicyCommand({ policyName: 'p-child' }))).targets, []);
      await t.iot.send(new DeletePolicyCommand({ policyName: 'p-child' }));
    });

    it('answers the effective policies of a certificate and a thing through its groups and their ancestors', async () => {
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'eff-root' }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'eff-leaf', parentGroupName: 'eff-root' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'eff-dev' }));
      await t.iot.send(new AddThingToThingGroupCommand({ thingName: 'eff-dev', thingGroupName: 'eff-leaf' }));
      await create('eff-cert', doc('cert'));
      await create('eff-group', doc('group'));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'eff-cert', target: certArn(2) }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'eff-group', target: groupArn('eff-root') }));
      const both = await t.iot.send(new GetEffectivePoliciesCommand({ principal: certArn(2), thingName: 'eff-dev' }));
      assert.deepEqual(both.effectivePolicies, [
        { policyName: 'eff-cert', policyArn: policyArn('eff-cert'), policyDocument: doc('cert') },
        { policyName: 'eff-group', policyArn: policyArn('eff-group'), policyDocument: doc('group') },
      ]);
      const thingOnly = await t.iot.send(new GetEffectivePoliciesCommand({ thingName: 'eff-dev' }));
      assert.deepEqual(thingOnly.effectivePolicies?.map((p) => p.policyName), ['eff-group']);
      await expectAwsError(t.iot.send(new GetEffectivePoliciesCommand({ thingName: 'eff-ghost' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('TestAuthorization: ALLOWED, EXPLICIT_DENY and IMPLICIT_DENY with the deciding policies', async () => {
      await create('ta-allow', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iot:Publish', 'iot:Connect'], Resource: [arnOf('topic/ta/*'), arnOf('client/${iot:ClientId}')] }] }));
      await create('ta-deny', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iot:Publish', Resource: arnOf('topic/ta/secret') }] }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'ta-allow', target: certArn(4) }));
      const answer = await t.iot.send(new TestAuthorizationCommand({
        principal: certArn(4),
        clientId: 'ta-client',
        policyNamesToAdd: ['ta-deny'],
        authInfos: [
          { actionType: 'PUBLISH', resources: [arnOf('topic/ta/open')] },
          { actionType: 'PUBLISH', resources: [arnOf('topic/ta/secret')] },
          { actionType: 'SUBSCRIBE', resources: [arnOf('topicfilter/ta/#')] },
          { actionType: 'CONNECT', resources: [arnOf('client/ta-client')] },
        ],
      }));
      const ref = (n: string) => ({ policyName: n, policyArn: policyArn(n) });
      assert.deepEqual(answer.authResults!.map((r) => r.authDecision), ['ALLOWED', 'EXPLICIT_DENY', 'IMPLICIT_DENY', 'ALLOWED']);
      assert.deepEqual(answer.authResults![0].allowed?.policies, [ref('ta-allow')]);
      assert.deepEqual(answer.authResults![1].denied?.explicitDeny?.policies, [ref('ta-deny')]);
      assert.deepEqual(answer.authResults![2].denied?.implicitDeny?.policies, [ref('ta-allow'), ref('ta-deny')]);
      const skipped = await t.iot.send(new TestAuthorizationCommand({ principal: certArn(4), policyNamesToSkip: ['ta-allow'], authInfos: [{ actionType: 'PUBLISH', resources: [arnOf('topic/ta/open')] }] }));
      assert.equal(skipped.authResults![0].authDecision, 'IMPLICIT_DENY');
      await expectAwsError(t.iot.send(new TestAuthorizationCommand({ principal: certArn(4), policyNamesToAdd: ['ta-none'], authInfos: [{ actionType: 'PUBLISH', resources: ['x'] }] })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new TestAuthorizationCommand({ principal: certArn(4), authInfos: [] })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new TestAuthorizationCommand({ principal: certArn(4), authInfos: [{ actionType: 'DANCE' as never, resources: ['x'] }] })), 'InvalidRequestException', { status: 400 });
    });

    it('lists policies in pages, either way', async () => {
      for (const n of ['lst-a', 'lst-b', 'lst-c']) await create(n);
      const all: string[] = [];
      let marker: string | undefined;
      do {
        const page = await t.iot.send(new ListPoliciesCommand({ pageSize: 2, marker }));
        assert.ok(page.policies!.length <= 2);
        all.push(...page.policies!.map((p) => p.policyName!));
        assert.ok(page.policies!.every((p) => p.policyArn === policyArn(p.policyName!)));
        marker = page.nextMarker;
        if (marker) assert.match(marker, /^[A-Za-z0-9+/]+={0,2}$/);
      } while (marker);
      assert.deepEqual(all, [...all].sort());
      assert.ok(['lst-a', 'lst-b', 'lst-c'].every((n) => all.includes(n)));
      const desc = (await t.iot.send(new ListPoliciesCommand({ ascendingOrder: false }))).policies!.map((p) => p.policyName!);
      assert.deepEqual(desc, [...all].reverse());
      await expectAwsError(t.iot.send(new ListPoliciesCommand({ marker: 'Zm9v' })), 'InvalidRequestException', { status: 400 });
    });

    it('through the AWS CLI', { skip: cliSkip }, async () => {
      const aws = (...args: string[]) => runAwsCli(t.url, ['iot', ...args]);
      const created = await aws('create-policy', '--policy-name', 'cli-policy', '--policy-document', doc('cli/*'));
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.json?.policyVersionId, '1');
      const attach = await aws('attach-policy', '--policy-name', 'cli-policy', '--target', certArn(3));
      assert.equal(attach.code, 0, attach.stderr);
      // The whole certificate ARN travels in one path segment.
      const listed = await aws('list-attached-policies', '--target', certArn(3));
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(listed.json?.policies, [{ policyName: 'cli-policy', policyArn: policyArn('cli-policy') }]);
      const version = await aws('create-policy-version', '--policy-name', 'cli-policy', '--policy-document', doc('cli2/*'), '--set-as-default');
      assert.equal(version.code, 0, version.stderr);
      assert.equal(version.json?.isDefaultVersion, true);
      const effective = await aws('get-effective-policies', '--principal', certArn(3));
      assert.equal(effective.code, 0, effective.stderr);
      assert.deepEqual(effective.json?.effectivePolicies, [{ policyName: 'cli-policy', policyArn: policyArn('cli-policy'), policyDocument: doc('cli2/*') }]);
      const bad = await aws('create-policy', '--policy-name', 'cli-bad', '--policy-document', '{"Statement":');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /MalformedPolicyException/);
      const conflict = await aws('delete-policy', '--policy-name', 'cli-policy');
      assert.match(conflict.stderr, /DeleteConflictException/);
    });
  });
}
