import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  GetPackageVersionCommand,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

for (const backend of await testBackends()) {
  describe(`package version lifecycle (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    it('walks DRAFT → PUBLISHED → DEPRECATED → PUBLISHED and guards the default version', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'fw' }));
      const created = await t.iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', attributes: { os: 'linux' } }));
      assert.equal(created.status, 'DRAFT');
      assert.equal(created.packageVersionArn, 'arn:aws:iot:us-east-1:123456789012:package/fw/version/1.0.0');

      await expectAwsError(t.iot.send(new UpdatePackageCommand({ packageName: 'fw', defaultVersionName: '1.0.0' })), 'ConflictException', { status: 409 });
      await expectAwsError(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', action: 'DEPRECATE' })), 'ConflictException');

      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', action: 'PUBLISH' }));
      await expectAwsError(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', attributes: { os: 'rtos' } })), 'ConflictException');
      await t.iot.send(new UpdatePackageCommand({ packageName: 'fw', defaultVersionName: '1.0.0' }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'fw' }))).defaultVersionName, '1.0.0');

      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', action: 'DEPRECATE' }));
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName: '1.0.0' }))).status, 'DEPRECATED');
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', action: 'PUBLISH' }));
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName: '1.0.0' }))).status, 'PUBLISHED');

      await expectAwsError(t.iot.send(new DeletePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0' })), 'ValidationException', { message: 'default version' });
      await expectAwsError(t.iot.send(new DeletePackageCommand({ packageName: 'fw' })), 'ValidationException');
      await t.iot.send(new UpdatePackageCommand({ packageName: 'fw', unsetDefaultVersion: true }));
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0' }));
      await t.iot.send(new DeletePackageCommand({ packageName: 'fw' }));
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'fw' })), 'ResourceNotFoundException', { status: 404 });
    });
  });
}
