import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCACertificateCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  GetRegistrationCodeCommand,
  ListCACertificatesCommand,
  ListCertificatesByCACommand,
  ListCertificatesCommand,
  ListPrincipalThingsCommand,
  ListPrincipalThingsV2Command,
  ListThingPrincipalsCommand,
  ListThingPrincipalsV2Command,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCACertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { OpensslWorkspace } from '../support/openssl.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const certArn = (id: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${id}`;
const sha256OfPem = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const cliSkip = awsCliSkipReason();

for (const backend of await testBackends()) {
  describe(`certificates and thing principals (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const ssl = new OpensslWorkspace();
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => {
      await t?.close();
      ssl.close();
    });

    it('CreateKeysAndCertificate: AWS id, ARN, PEM keys, AWS leaf profile signed by the server CA, INACTIVE unless setAsActive', async () => {
      const before = t.clock.now();
      const c = await t.iot.send(new CreateKeysAndCertificateCommand({}));
      assert.equal(c.certificateId, sha256OfPem(c.certificatePem!));
      assert.equal(c.certificateArn, certArn(c.certificateId!));
      assert.match(c.keyPair!.PrivateKey!, /^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n$/);
      assert.match(c.keyPair!.PublicKey!, /^-----BEGIN PUBLIC KEY-----\n/);
      const x = new X509Certificate(c.certificatePem!);
      assert.equal(x.subject, 'CN=AWS IoT Certificate');
      assert.equal(new Date(x.validTo).toISOString(), '2049-12-31T23:59:59.000Z');
      assert.equal(x.ca, false);
      assert.ok(ssl.verifies(join(t.dataDir, 'tls', 'ca.pem'), ssl.write('leaf.pem', c.certificatePem!)), 'openssl verifies it against <data-dir>/tls/ca.pem');
      const d = (await t.iot.send(new DescribeCertificateCommand({ certificateId: c.certificateId }))).certificateDescription!;
      assert.equal(d.status, 'INACTIVE');
      assert.equal(d.certificateMode, 'DEFAULT');
      assert.equal(d.caCertificateId, undefined);
      assert.equal(d.ownedBy, ACCOUNT);
      assert.equal(d.customerVersion, 1);
      assert.equal(d.certificatePem, c.certificatePem);
      assert.ok(d.creationDate!.getTime() >= before - 1000);
      assert.equal(d.validity!.notAfter!.toISOString(), '2049-12-31T23:59:59.000Z');
      const active = await t.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      assert.equal((await t.iot.send(new DescribeCertificateCommand({ certificateId: active.certificateId }))).certificateDescription!.status, 'ACTIVE');
      await expectAwsError(t.iot.send(new DescribeCertificateCommand({ certificateId: 'f'.repeat(64) })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new DescribeCertificateCommand({ certificateId: 'xyz' })), 'InvalidRequestException', { status: 400 });
    });

    it('CreateCertificateFromCsr: the CSR subject copied, two certificates from one CSR, weak or tampered CSRs refused', async () => {
      const req = ssl.csr('/C=DE/O=Acme Devices/CN=sensor-1', { ec: true });
      const a = await t.iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: req.pem, setAsActive: true }));
      const b = await t.iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: req.pem }));
      assert.notEqual(a.certificateId, b.certificateId);
      assert.equal(a.certificateId, sha256OfPem(a.certificatePem!));
      assert.equal(new X509Certificate(a.certificatePem!).subject, 'C=DE\nO=Acme Devices\nCN=sensor-1');
      const weak = ssl.csr('/CN=weak', { rsaBits: 1024 });
      await expectAwsError(t.iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: weak.pem })), 'InvalidRequestException', { status: 400, message: 'at least 2048' });
      await expectAwsError(t.iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: 'not a csr' })), 'InvalidRequestException', { status: 400 });
      // One byte of the signature changed.
      const lines = req.pem.trim().split('\n');
      const body = Buffer.from(lines.slice(1, -1).join(''), 'base64');
      body[body.length - 3] ^= 0x01;
      const tampered = `${lines[0]}\n${body.toString('base64').replace(/.{64}/g, '$&\n')}\n${lines[lines.length - 1]}\n`;
      await expectAwsError(t.iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: tampered })), 'InvalidRequestException', { status: 400 });
    });

    it('RegisterCACertificate with the registration code; RegisterCertificate under it; WithoutCA in SNI_ONLY; duplicates 409', async () => {
      const code = (await t.iot.send(new GetRegistrationCodeCommand({}))).registrationCode!;
      assert.match(code, /^[0-9a-f]{64}$/);
      assert.equal((await t.iot.send(new GetRegistrationCodeCommand({}))).registrationCode, code, 'stable until deleted');
      const ca = ssl.ca('Acme Fleet CA');
      const other = ssl.ca('Other CA');
      const wrongCn = ssl.leaf(ca, '/CN=not-the-code');
      await expectAwsError(t.iot.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, verificationCertificate: wrongCn.pem })), 'RegistrationCodeValidationException', { status: 400 });
      const foreign = ssl.leaf(other, `/CN=${code}`);
      await expectAwsError(t.iot.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, verificationCertificate: foreign.pem })), 'RegistrationCodeValidationException', { status: 400 });
      const verification = ssl.leaf(ca, `/CN=${code}`);
      await expectAwsError(t.iot.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, verificationCertificate: verification.pem, certificateMode: 'SNI_ONLY' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new RegisterCACertificateCommand({ caCertificate: verification.pem, verificationCertificate: verification.pem })), 'CertificateValidationException', { status: 400 });

      const reg = await t.iot.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, verificationCertificate: verification.pem }));
      assert.equal(reg.certificateId, sha256OfPem(ca.pem));
      assert.equal(reg.certificateArn, `arn:aws:iot:${REGION}:${ACCOUNT}:cacert/${reg.certificateId}`);
      const dup = await expectAwsError(t.iot.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, verificationCertificate: verification.pem })), 'ResourceAlreadyExistsException', { status: 409 });
      assert.equal(dup.resourceId, reg.certificateId);
      const desc = await t.iot.send(new DescribeCACertificateCommand({ certificateId: reg.certificateId }));
      assert.equal(desc.certificateDescription!.status, 'INACTIVE');
      assert.equal(desc.certificateDescription!.autoRegistrationStatus, 'DISABLE');
      assert.ok((await t.iot.send(new ListCACertificatesCommand({}))).certificates!.some((c) => c.certificateId === reg.certificateId));

      const leaf = ssl.leaf(ca, '/CN=device-7');
      await expectAwsError(t.iot.send(new RegisterCertificateCommand({ certificatePem: leaf.pem })), 'CertificateValidationException', { status: 400, message: 'not ACTIVE' });
      await expectAwsError(t.iot.send(new RegisterCertificateCommand({ certificatePem: ssl.leaf(other, '/CN=x').pem })), 'CertificateValidationException', { status: 400 });
      await t.iot.send(new UpdateCACertificateCommand({ certificateId: reg.certificateId, newStatus: 'ACTIVE' }));
      const registered = await t.iot.send(new RegisterCertificateCommand({ certificatePem: leaf.pem, status: 'ACTIVE' }));
      assert.equal(registered.certificateId, sha256OfPem(leaf.pem));
      const d = (await t.iot.send(new DescribeCertificateCommand({ certificateId: registered.certificateId }))).certificateDescription!;
      assert.deepEqual([d.status, d.caCertificateId, d.certificateMode], ['ACTIVE', reg.certificateId, 'DEFAULT']);
      const byCa = await t.iot.send(new ListCertificatesByCACommand({ caCertificateId: reg.certificateId }));
      assert.deepEqual(byCa.certificates!.map((c) => c.certificateId), [registered.certificateId]);
      const again = await expectAwsError(t.iot.send(new RegisterCertificateCommand({ certificatePem: leaf.pem })), 'ResourceAlreadyExistsException', { status: 409 });
      assert.equal(again.resourceArn, certArn(registered.certificateId!));

      const loose = ssl.leaf(other, '/CN=loose');
      const noCa = await t.iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: loose.pem, status: 'ACTIVE' }));
      const nd = (await t.iot.send(new DescribeCertificateCommand({ certificateId: noCa.certificateId }))).certificateDescription!;
      assert.deepEqual([nd.certificateMode, nd.caCertificateId, nd.status], ['SNI_ONLY', undefined, 'ACTIVE']);

      await expectAwsError(t.iot.send(new DeleteCACertificateCommand({ certificateId: reg.certificateId })), 'CertificateStateException', { status: 406 });
      await t.iot.send(new UpdateCACertificateCommand({ certificateId: reg.certificateId, newStatus: 'INACTIVE' }));
      await t.iot.send(new DeleteCACertificateCommand({ certificateId: reg.certificateId }));
      await expectAwsError(t.iot.send(new DescribeCACertificateCommand({ certificateId: reg.certificateId })), 'ResourceNotFoundException', { status: 404 });
      // The CA's leaves stay, still naming it.
      assert.equal((await t.iot.send(new DescribeCertificateCommand({ certificateId: registered.certificateId }))).certificateDescription!.caCertificateId, reg.certificateId);
    });

    it('UpdateCertificate: same status a no-op, REVOKED final (406), internal states refused (400); customerVersion counts changes', async () => {
      const { certificateId } = await t.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      await t.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
      const describe = async () => (await t.iot.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription!;
      assert.equal((await describe()).customerVersion, 1);
      await t.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
      const d = await describe();
      assert.deepEqual([d.status, d.customerVersion], ['INACTIVE', 2]);
      await expectAwsError(t.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'PENDING_TRANSFER' })), 'InvalidRequestException', { status: 400 });
      await t.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
      await expectAwsError(t.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' })), 'CertificateStateException', { status: 406 });
      await t.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
      assert.equal((await describe()).status, 'REVOKED');
      await expectAwsError(t.iot.send(new UpdateCertificateCommand({ certificateId: 'a'.repeat(64), newStatus: 'INACTIVE' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('thing principals: exclusive rules, V1 and V2 lists with type filter and pages, DeleteCertificate and DeleteThing conflicts', async () => {
      for (const n of ['pa', 'pb', 'pc']) await t.iot.send(new CreateThingCommand({ thingName: n }));
      const c1 = await t.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      const c2 = await t.iot.send(new CreateKeysAndCertificateCommand({}));
      const p1 = c1.certificateArn!;
      const p2 = c2.certificateArn!;
      await t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pa', principal: p1 }));
      await t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pa', principal: p1 }));
      await t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pb', principal: p1 }));
      await expectAwsError(t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pc', principal: p1, thingPrincipalType: 'EXCLUSIVE_THING' })), 'InvalidRequestException', { status: 400 });
      await t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pc', principal: p2, thingPrincipalType: 'EXCLUSIVE_THING' }));
      await expectAwsError(t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pa', principal: p2 })), 'InvalidRequestException', { status: 400, message: 'exclusively' });
      await t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pc', principal: p1 }));
      await expectAwsError(t.iot.send(new AttachThingPrincipalCommand({ thingName: 'nope', principal: p1 })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pa', principal: certArn('b'.repeat(64)) })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new AttachThingPrincipalCommand({ thingName: 'pa', principal: 'arn:aws:iam::123456789012:user/x' })), 'InvalidRequestException', { status: 400 });

      assert.deepEqual((await t.iot.send(new ListThingPrincipalsCommand({ thingName: 'pc' }))).principals!.sort(), [p1, p2].sort());
      const v2 = await t.iot.send(new ListThingPrincipalsV2Command({ thingName: 'pc', thingPrincipalType: 'EXCLUSIVE_THING' }));
      assert.deepEqual(v2.thingPrincipalObjects, [{ principal: p2, thingPrincipalType: 'EXCLUSIVE_THING' }]);
      const first = await t.iot.send(new ListPrincipalThingsCommand({ principal: p1, maxResults: 2 }));
      assert.deepEqual(first.things, ['pa', 'pb']);
      const rest = await t.iot.send(new ListPrincipalThingsCommand({ principal: p1, maxResults: 2, nextToken: first.nextToken }));
      assert.deepEqual([rest.things, rest.nextToken], [['pc'], undefined]);
      const pv2 = await t.iot.send(new ListPrincipalThingsV2Command({ principal: p2 }));
      assert.deepEqual(pv2.principalThingObjects, [{ thingName: 'pc', thingPrincipalType: 'EXCLUSIVE_THING' }]);
      await expectAwsError(t.iot.send(new ListThingPrincipalsCommand({ thingName: 'nope' })), 'ResourceNotFoundException', { status: 404 });

      await expectAwsError(t.iot.send(new DeleteCertificateCommand({ certificateId: c1.certificateId })), 'CertificateStateException', { status: 406, message: 'deactivated' });
      await t.iot.send(new UpdateCertificateCommand({ certificateId: c1.certificateId, newStatus: 'INACTIVE' }));
      await expectAwsError(t.iot.send(new DeleteCertificateCommand({ certificateId: c1.certificateId, forceDelete: true })), 'DeleteConflictException', { status: 409, message: 'Things must be detached' });
      await expectAwsError(t.iot.send(new DeleteThingCommand({ thingName: 'pa' })), 'InvalidRequestException', { status: 400, message: 'still attached to one or more principals' });
      for (const n of ['pa', 'pb', 'pc']) await t.iot.send(new DetachThingPrincipalCommand({ thingName: n, principal: p1 }));
      await t.iot.send(new DetachThingPrincipalCommand({ thingName: 'pa', principal: p1 }));
      await t.iot.send(new DeleteCertificateCommand({ certificateId: c1.certificateId }));
      await expectAwsError(t.iot.send(new DescribeCertificateCommand({ certificateId: c1.certificateId })), 'ResourceNotFoundException', { status: 404 });
      await t.iot.send(new DeleteThingCommand({ thingName: 'pa' }));
    });

    it('ListCertificates: newest first, isAscendingOrder, pageSize and marker', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        t.clock.advance(1000);
        ids.push((await t.iot.send(new CreateKeysAndCertificateCommand({}))).certificateId!);
      }
      const all: string[] = [];
      let marker: string | undefined;
      do {
        const page = await t.iot.send(new ListCertificatesCommand({ pageSize: 2, marker }));
        assert.ok(page.certificates!.length <= 2);
        all.push(...page.certificates!.map((c) => c.certificateId!));
        marker = page.nextMarker;
      } while (marker);
      assert.equal(new Set(all).size, all.length);
      const asc = (await t.iot.send(new ListCertificatesCommand({ ascendingOrder: true, pageSize: 250 }))).certificates!.map((c) => c.certificateId!);
      assert.deepEqual(asc, [...all].reverse());
      const item = (await t.iot.send(new ListCertificatesCommand({ pageSize: 1 }))).certificates![0];
      assert.deepEqual(Object.keys(item).sort(), ['certificateArn', 'certificateId', 'certificateMode', 'creationDate', 'status']);
      await expectAwsError(t.iot.send(new ListCertificatesCommand({ pageSize: 251 })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new ListCertificatesCommand({ marker: 'bogus' })), 'InvalidRequestException', { status: 400 });
    });

    it('the AWS CLI creates, describes, deactivates and deletes a certificate', { skip: cliSkip }, async () => {
      const created = await runAwsCli(t.url, ['iot', 'create-keys-and-certificate', '--set-as-active']);
      assert.equal(created.code, 0, created.stderr);
      const id = created.json!.certificateId as string;
      assert.equal(id, sha256OfPem(created.json!.certificatePem as string));
      const d = await runAwsCli(t.url, ['iot', 'describe-certificate', '--certificate-id', id]);
      assert.equal((d.json!.certificateDescription as { status: string }).status, 'ACTIVE');
      const refused = await runAwsCli(t.url, ['iot', 'delete-certificate', '--certificate-id', id]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /CertificateStateException/);
      assert.equal((await runAwsCli(t.url, ['iot', 'update-certificate', '--certificate-id', id, '--new-status', 'INACTIVE'])).code, 0);
      assert.equal((await runAwsCli(t.url, ['iot', 'delete-certificate', '--certificate-id', id])).code, 0);
      const csr = ssl.csr('/CN=cli-device');
      const fromCsr = await runAwsCli(t.url, ['iot', 'create-certificate-from-csr', '--certificate-signing-request', `file://${csr.csr}`]);
      assert.equal(fromCsr.code, 0, fromCsr.stderr);
      assert.equal(new X509Certificate(fromCsr.json!.certificatePem as string).subject, 'CN=cli-device');
    });
  });
}
