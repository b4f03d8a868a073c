import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  GetPackageVersionCommand,
  ListPackagesCommand,
  ListPackageVersionsCommand,
  ListSbomValidationResultsCommand,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
  type PackageVersionStatus,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const NAME_PATTERN = '[a-zA-Z0-9-_.]+';
const NO_CONTROL = '[^\\p{C}]+';

/** The AWS validation message for one violation. */
const one = (value: string, path: string, constraint: string) =>
  `1 validation error detected: Value '${value}' at '${path}' failed to satisfy constraint: ${constraint}`;

/** Every invalid field of the catalog operations answers ValidationException 400 in AWS's words, and stores nothing. */
for (const backend of await testBackends()) {
  describe(`package catalog validation (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new CreatePackageCommand({ packageName: 'val' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'draft' }));
    });
    after(async () => t?.close());

    async function rejects(promise: Promise<unknown>, message?: string | RegExp): Promise<string> {
      const err = await expectAwsError(promise, 'ValidationException', { status: 400 });
      if (typeof message === 'string') assert.equal(err.message, message);
      else if (message) assert.match(err.message, message);
      return err.message;
    }

    it('checks package and version names: pattern and length, in the AWS message format', async () => {
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'a b' })),
        one('a b', 'packageName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`));
      await rejects(t.iot.send(new GetPackageCommand({ packageName: 'x$y' })),
        one('x$y', 'packageName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`));
      const long = 'p'.repeat(129);
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: long })),
        one(long, 'packageName', 'Member must have length less than or equal to 128'));

      const longVersion = 'v'.repeat(65);
      await rejects(t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: longVersion })),
        one(longVersion, 'versionName', 'Member must have length less than or equal to 64'));
      // The SDK percent-encodes '/' inside the label; the decoded name still has to match.
      await rejects(t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'v/1' })),
        one('v/1', 'versionName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`));
      await rejects(t.iot.send(new GetPackageVersionCommand({ packageName: 'val', versionName: '$default' })),
        one('$default', 'versionName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`));
      await rejects(t.iot.send(new UpdatePackageCommand({ packageName: 'val', defaultVersionName: 'bad version' })),
        one('bad version', 'defaultVersionName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`));

      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'a b' })), 'ValidationException');
    });

    it('counts every violation in one message', async () => {
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'a b', description: 'x\ny' })),
        '2 validation errors detected: ' +
          `Value 'a b' at 'packageName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAME_PATTERN}; ` +
          `Value 'x\ny' at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NO_CONTROL}`);
    });

    it('rejects control characters in descriptions, including newline and tab, and more than 1024 characters', async () => {
      for (const bad of ['\n', 'line1\nline2', 'tab\there', 'bell\u0007', 'nul\u0000', 'zero\u200bwidth']) {
        await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-desc', description: bad })),
          one(bad, 'description', `Member must satisfy regular expression pattern: ${NO_CONTROL}`));
        await rejects(t.iot.send(new UpdatePackageCommand({ packageName: 'val', description: bad })));
        await rejects(t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-desc', description: bad })));
        await rejects(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'val', versionName: 'draft', description: bad })));
      }
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-desc', description: 'd'.repeat(1025) })),
        /^1 validation error detected: Value 'd{200}\.\.\.' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024$/);
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'val-desc' })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new GetPackageVersionCommand({ packageName: 'val', versionName: 'val-desc' })), 'ResourceNotFoundException');

      // 1024 characters, unicode letters and spaces are fine.
      const max = 'é'.repeat(1024);
      await t.iot.send(new CreatePackageCommand({ packageName: 'val-desc', description: max }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'val-desc' }))).description, max);
      await t.iot.send(new UpdatePackageCommand({ packageName: 'val-desc', description: 'Ünïcödé text — with spaces 🚀' }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'val-desc' }))).description, 'Ünïcödé text — with spaces 🚀');
    });

    it('checks attribute keys and values', async () => {
      const create = (attributes: Record<string, string>) =>
        t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-attrs', attributes }));
      const keyMessage = await rejects(create({ 'bad key': 'v' }));
      assert.match(keyMessage, /^1 validation error detected: Value 'bad key' at 'attributes\.key' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9:_-\]\+$/);
      await rejects(create({ 'dot.key': 'v' }), /attributes/);
      await rejects(create({ '': 'v' }), /attributes/);
      await rejects(create({ k: '' }), /^1 validation error detected: .*attributes.*Member must have length greater than or equal to 1$/);
      await rejects(create({ k: 'two\nlines' }), new RegExp(`attributes.*${NO_CONTROL.replace(/[\\[\]{}^+]/g, '\\$&')}`));
      await expectAwsError(t.iot.send(new GetPackageVersionCommand({ packageName: 'val', versionName: 'val-attrs' })), 'ResourceNotFoundException');

      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-attrs', attributes: { 'a:b_c-D9': 'any value, spaces ok' } }));
      await rejects(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'val', versionName: 'val-attrs', attributes: { k: '' } })));
      assert.deepEqual((await t.iot.send(new GetPackageVersionCommand({ packageName: 'val', versionName: 'val-attrs' }))).attributes, { 'a:b_c-D9': 'any value, spaces ok' });
    });

    it('limits all attribute keys plus values to 3 KB of UTF-8', async () => {
      const create = (versionName: string, attributes: Record<string, string>) =>
        t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName, attributes }));
      await create('val-3k', { k: 'x'.repeat(3071) });
      await create('val-3k-split', { a: 'x'.repeat(1000), b: 'y'.repeat(1000), c: 'z'.repeat(1069) });
      await rejects(create('val-3k-over', { k: 'x'.repeat(3072) }), /3072/);
      await rejects(create('val-3k-over', { a: 'x'.repeat(1000), b: 'y'.repeat(1000), c: 'z'.repeat(1070) }), /3072/);
      // 'é' is two bytes: 1 + 2 × 1536 = 3073 bytes in 1537 characters.
      await rejects(create('val-3k-over', { k: 'é'.repeat(1536) }), /3072/);
      await expectAwsError(t.iot.send(new GetPackageVersionCommand({ packageName: 'val', versionName: 'val-3k-over' })), 'ResourceNotFoundException');
      await rejects(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'val', versionName: 'draft', attributes: { k: 'x'.repeat(3072) } })), /3072/);
    });

    it('limits the recipe to 3072 characters', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-recipe', recipe: 'r'.repeat(3072) }));
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'val', versionName: 'val-recipe' }))).recipe?.length, 3072);
      await rejects(t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-recipe-2', recipe: 'r'.repeat(3073) })),
        /^1 validation error detected: Value 'r{200}\.\.\.' at 'recipe' failed to satisfy constraint: Member must have length less than or equal to 3072$/);
      await rejects(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'val', versionName: 'val-recipe', recipe: 'r'.repeat(3073) })), /recipe/);
    });

    it('checks tag maps on create: not empty, at most 50, no aws: prefix, key pattern', async () => {
      const fiftyOne = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
      const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-tags', tags: {} })),
        one('{}', 'tags', 'Member must have length greater than or equal to 1'));
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-tags', tags: fiftyOne })), /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/);
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-tags', tags: { 'aws:owner': 'me' } })), /aws:/);
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-tags', tags: { 'AWS:owner': 'me' } })), /aws:/);
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-tags', tags: { 'bad#key': 'v' } })), /tags/);
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-tags', tags: { k: 'v'.repeat(257) } })), /Member must have length less than or equal to 256/);
      await rejects(t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-tags', tags: {} })), /at 'tags'/);
      await rejects(t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-tags', tags: { 'aws:x': 'y' } })), /aws:/);
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'val-tags' })), 'ResourceNotFoundException');

      await t.iot.send(new CreatePackageCommand({ packageName: 'val-tags', tags: fifty }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-tags', tags: { 'key with spaces/=+-@.:_': '' } }));
    });

    it('checks the clientToken: 36 to 64 non-space characters', async () => {
      // Length and the full-match pattern \S{36,64} are separate constraints, and AWS reports each.
      await rejects(t.iot.send(new CreatePackageCommand({ packageName: 'val-token', clientToken: 'tok-1' })),
        "2 validation errors detected: Value 'tok-1' at 'clientToken' failed to satisfy constraint: Member must have length greater than or equal to 36; " +
          "Value 'tok-1' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: \\S{36,64}");
      const long = 't'.repeat(65);
      await rejects(t.iot.send(new UpdatePackageCommand({ packageName: 'val', clientToken: long })),
        new RegExp(`^2 validation errors detected: Value '${long}' at 'clientToken' failed to satisfy constraint: Member must have length less than or equal to 64; `));
      await rejects(t.iot.send(new DeletePackageCommand({ packageName: 'val', clientToken: 'short' })), /clientToken/);
      await rejects(t.iot.send(new DeletePackageVersionCommand({ packageName: 'val', versionName: 'draft', clientToken: 'short' })), /clientToken/);
      const spaced = 'a'.repeat(20) + ' ' + 'b'.repeat(20);
      await rejects(t.iot.send(new CreatePackageVersionCommand({ packageName: 'val', versionName: 'val-token', clientToken: spaced })),
        one(spaced, 'clientToken', 'Member must satisfy regular expression pattern: \\S{36,64}'));
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'val-token' })), 'ResourceNotFoundException');
      await t.iot.send(new CreatePackageCommand({ packageName: 'val-token', clientToken: 'x'.repeat(36) }));
      await t.iot.send(new CreatePackageCommand({ packageName: 'val-token-64', clientToken: 'y'.repeat(64) }));
    });

    it('checks maxResults (1..100), the status enum and the nextToken of every catalog list', async () => {
      const lists = [
        (maxResults?: number, nextToken?: string) => t.iot.send(new ListPackagesCommand({ maxResults, nextToken })),
        (maxResults?: number, nextToken?: string) => t.iot.send(new ListPackageVersionsCommand({ packageName: 'val', maxResults, nextToken })),
        (maxResults?: number, nextToken?: string) => t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'val', versionName: 'draft', maxResults, nextToken })),
      ];
      for (const list of lists) {
        await rejects(list(0), one('0', 'maxResults', 'Member must have value greater than or equal to 1'));
        await rejects(list(101), one('101', 'maxResults', 'Member must have value less than or equal to 100'));
        await rejects(list(-1), /maxResults/);
        await rejects(list(undefined, 'garbage'));
        await rejects(list(undefined, Buffer.from('{"l":"other","k":"x"}').toString('base64url')));
        await list(1);
        await list(100);
      }
      await rejects(t.iot.send(new ListPackageVersionsCommand({ packageName: 'val', status: 'BOGUS' as PackageVersionStatus })),
        one('BOGUS', 'status', 'Member must satisfy enum value set: [DRAFT, PUBLISHED, DEPRECATED]'));
    });
  });
}
