import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateThingCommand,
  CreateThingTypeCommand,
  DeleteThingCommand,
  DeleteThingTypeCommand,
  DeprecateThingTypeCommand,
  DescribeThingCommand,
  DescribeThingTypeCommand,
  ListTagsForResourceCommand,
  ListThingsCommand,
  ListThingTypesCommand,
  TagResourceCommand,
  UpdateThingCommand,
  type ListThingsCommandInput,
} from '@aws-sdk/client-iot';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const thingArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${name}`;

for (const backend of await testBackends()) {
  describe(`things (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    const describeThing = (thingName: string) => t.iot.send(new DescribeThingCommand({ thingName }));

    it('creates a thing and describes it with version, defaultClientId and empty attributes', async () => {
      const created = await t.iot.send(new CreateThingCommand({ thingName: 'sensor:1' }));
      assert.equal(created.thingName, 'sensor:1');
      assert.equal(created.thingArn, thingArn('sensor:1'));
      assert.match(created.thingId!, UUID);

      const d = await describeThing('sensor:1');
      assert.equal(d.defaultClientId, 'sensor:1');
      assert.equal(d.thingId, created.thingId);
      assert.equal(d.thingArn, created.thingArn);
      assert.deepEqual(d.attributes, {});
      assert.equal(d.version, 1);
      assert.equal(d.thingTypeName, undefined);
      assert.equal(d.billingGroupName, undefined);
      await expectAwsError(describeThing('nope'), 'ResourceNotFoundException', { status: 404, message: 'Thing nope cannot be found.' });
    });

    it('CreateThing is idempotent for the same configuration and refuses a different one', async () => {
      const first = await t.iot.send(new CreateThingCommand({ thingName: 'idem', attributePayload: { attributes: { b: '2', a: '1' } } }));
      // Same attributes in another order; `merge` is ignored on create.
      const again = await t.iot.send(new CreateThingCommand({ thingName: 'idem', attributePayload: { attributes: { a: '1', b: '2' }, merge: true } }));
      assert.equal(again.thingId, first.thingId);
      assert.equal((await describeThing('idem')).version, 1);

      const err = await expectAwsError(
        t.iot.send(new CreateThingCommand({ thingName: 'idem', attributePayload: { attributes: { a: '1' } } })),
        'ResourceAlreadyExistsException',
        { status: 409, message: 'Thing idem already exists in account with different attributes' },
      );
      assert.equal(err.resourceId, first.thingId);
      assert.equal(err.resourceArn, thingArn('idem'));
      // Without attributes the configuration differs too.
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'idem' })), 'ResourceAlreadyExistsException');
    });

    it('concurrent identical creates all answer with the one thing', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => t.iot.send(new CreateThingCommand({ thingName: 'burst', attributePayload: { attributes: { a: '1' } } }))));
      assert.equal(new Set(results.map((r) => r.thingId)).size, 1);
      assert.equal((await describeThing('burst')).thingId, results[0].thingId);
    });

    it('validates names, attributes and their count', async () => {
      const e1 = await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'bad name' })), 'InvalidRequestException', { status: 400 });
      assert.equal(e1.message, "1 validation error detected: Value 'bad name' at 'thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+");
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'x'.repeat(129) })), 'InvalidRequestException', { message: 'Member must have length less than or equal to 128' });
      await expectAwsError(
        t.iot.send(new CreateThingCommand({ thingName: 'attrs', attributePayload: { attributes: { k: 'has space' } } })),
        'InvalidRequestException', { message: "at 'attributePayload.attributes.k.member'" },
      );
      await expectAwsError(
        t.iot.send(new CreateThingCommand({ thingName: 'attrs', attributePayload: { attributes: { 'bad key': 'v' } } })),
        'InvalidRequestException', { message: "at 'attributePayload.attributes.key'" },
      );
      await expectAwsError(
        t.iot.send(new CreateThingCommand({ thingName: 'attrs', attributePayload: { attributes: { a: '1', b: '2', c: '3', d: '4' } } })),
        'InvalidRequestException', { message: 'at most 3 attributes' },
      );
      // The November 2024 value characters are accepted.
      await t.iot.send(new CreateThingCommand({ thingName: 'attrs', attributePayload: { attributes: { 'k.1/x': 'a=[b]', e: '' } } }));
      // An empty value on create means "no such attribute".
      assert.deepEqual((await describeThing('attrs')).attributes, { 'k.1/x': 'a=[b]' });
      await expectAwsError(describeThing('attrs'.repeat(30)), 'InvalidRequestException');
    });

    it('refuses unknown thing types and billing groups with ResourceNotFoundException', async () => {
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'typed0', thingTypeName: 'nosuchtype' })), 'ResourceNotFoundException', { status: 404, message: 'nosuchtype' });
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'typed0', billingGroupName: 'bg' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(describeThing('typed0'), 'ResourceNotFoundException');
    });

    it('UpdateThing replaces or merges attributes and bumps the version every time', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'upd', attributePayload: { attributes: { a: '1', b: '2' } } }));
      await t.iot.send(new UpdateThingCommand({ thingName: 'upd', attributePayload: { attributes: { a: '', c: '3' }, merge: true } }));
      let d = await describeThing('upd');
      assert.deepEqual(d.attributes, { b: '2', c: '3' });
      assert.equal(d.version, 2);

      // merge absent: the map replaces everything, and "" values are dropped.
      await t.iot.send(new UpdateThingCommand({ thingName: 'upd', attributePayload: { attributes: { z: '9', y: '' } } }));
      d = await describeThing('upd');
      assert.deepEqual(d.attributes, { z: '9' });
      assert.equal(d.version, 3);

      // No attributes in the payload, or no payload at all: attributes unchanged, version still bumped.
      await t.iot.send(new UpdateThingCommand({ thingName: 'upd', attributePayload: {} }));
      await t.iot.send(new UpdateThingCommand({ thingName: 'upd' }));
      d = await describeThing('upd');
      assert.deepEqual(d.attributes, { z: '9' });
      assert.equal(d.version, 5);

      // Merging past the limit of 3 is refused and changes nothing.
      await expectAwsError(
        t.iot.send(new UpdateThingCommand({ thingName: 'upd', attributePayload: { attributes: { a: '1', b: '2', c: '3' }, merge: true } })),
        'InvalidRequestException', { message: 'at most 3 attributes' },
      );
      assert.equal((await describeThing('upd')).version, 5);
      await expectAwsError(t.iot.send(new UpdateThingCommand({ thingName: 'ghost' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('UpdateThing and DeleteThing check expectedVersion', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'ver' }));
      await expectAwsError(t.iot.send(new UpdateThingCommand({ thingName: 'ver', expectedVersion: 2 })), 'VersionConflictException', {
        status: 409, message: 'The version for thing ver does not match the expected version.',
      });
      await t.iot.send(new UpdateThingCommand({ thingName: 'ver', expectedVersion: 1, attributePayload: { attributes: { a: 'b' } } }));
      assert.equal((await describeThing('ver')).version, 2);
      await expectAwsError(t.iot.send(new DeleteThingCommand({ thingName: 'ver', expectedVersion: 1 })), 'VersionConflictException', { status: 409 });
      assert.equal((await describeThing('ver')).version, 2);
      await t.iot.send(new DeleteThingCommand({ thingName: 'ver', expectedVersion: 2 }));
      await expectAwsError(describeThing('ver'), 'ResourceNotFoundException');
    });

    it('DeleteThing of a missing thing succeeds, with or without expectedVersion', async () => {
      const out = await t.iot.send(new DeleteThingCommand({ thingName: 'never-was' }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      await t.iot.send(new DeleteThingCommand({ thingName: 'never-was', expectedVersion: 7 }));
      // A deleted thing can be created again, with a new id.
      const a = await t.iot.send(new CreateThingCommand({ thingName: 'reborn' }));
      await t.iot.send(new DeleteThingCommand({ thingName: 'reborn' }));
      const b = await t.iot.send(new CreateThingCommand({ thingName: 'reborn' }));
      assert.notEqual(a.thingId, b.thingId);
      assert.equal((await describeThing('reborn')).version, 1);
    });

    it('answers malformed requests the SDK would not send with InvalidRequestException 400', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'raw' }));
      const cases: [string, string, string | undefined, RegExp][] = [
        ['DELETE', '/things/raw?expectedVersion=abc', undefined, /'expectedVersion' failed to satisfy constraint: Member must be a number/],
        ['GET', '/things?usePrefixAttributeValue=maybe', undefined, /'usePrefixAttributeValue' failed to satisfy constraint: Member must be a boolean/],
        ['GET', '/things?maxResults=ten', undefined, /'maxResults'/],
        ['POST', '/things/raw2', '{"attributePayload":"nope"}', /'attributePayload' failed to satisfy constraint: Member must be a structure/],
        ['POST', '/things/raw2', '{"attributePayload":{"attributes":{"a":1}}}', /'attributePayload.attributes.a.member' failed to satisfy constraint: Member must be a string/],
        ['PATCH', '/things/raw', '{"removeThingType":"yes"}', /'removeThingType' failed to satisfy constraint: Member must be a boolean/],
        ['PATCH', '/things/raw', '{"expectedVersion":1.5}', /'expectedVersion' failed to satisfy constraint: Member must be an integer/],
        ['POST', '/thing-groups/raw-group', '{"tags":{"k":"v"}}', /'tags' failed to satisfy constraint: Member must be a list/],
        ['PUT', '/thing-groups/updateThingGroupsForThing', '{"thingName":"raw","thingGroupsToAdd":"g"}', /'thingGroupsToAdd' failed to satisfy constraint: Member must be a list/],
        ['PUT', '/thing-groups/addThingToThingGroup', '{"thingName":["raw"],"thingGroupName":"g"}', /'thingName' failed to satisfy constraint: Member must be a string/],
        ['POST', '/things/raw2', '{not json', /not valid JSON/],
      ];
      for (const [method, path, body, message] of cases) {
        const [p, q] = path.split('?');
        const res = await sendSigned(t.url, { method, path: p, query: q ? Object.fromEntries(new URLSearchParams(q)) : undefined, body }, { service: 'iot' });
        assert.equal(res.status, 400, `${method} ${path}: ${res.text}`);
        assert.equal(res.headers['x-amzn-errortype'], 'InvalidRequestException', `${method} ${path}`);
        assert.match(String(res.json?.message), message, `${method} ${path}`);
      }
      await expectAwsError(describeThing('raw2'), 'ResourceNotFoundException');
      assert.equal((await describeThing('raw')).version, 1);
    });

    it('things are not taggable resources (AWS tags billing groups instead)', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'untaggable' }));
      await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn: thingArn('untaggable'), tags: [{ Key: 'k', Value: 'v' }] })), 'InvalidRequestException', { status: 400 });
    });
  });

  describe(`thing types and typed things (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    it('creates, describes and lists thing types; CreateThingType is idempotent', async () => {
      const props = { thingTypeDescription: 'Temperature sensor', searchableAttributes: ['model', 'site'] };
      const created = await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'sensor', thingTypeProperties: props, tags: [{ Key: 'team', Value: 'iot' }] }));
      assert.equal(created.thingTypeArn, `arn:aws:iot:${REGION}:${ACCOUNT}:thingtype/sensor`);
      assert.match(created.thingTypeId!, UUID);
      const again = await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'sensor', thingTypeProperties: props }));
      assert.equal(again.thingTypeId, created.thingTypeId);
      const err = await expectAwsError(t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'sensor' })), 'ResourceAlreadyExistsException', { status: 409 });
      assert.equal(err.resourceId, created.thingTypeId);

      const d = await t.iot.send(new DescribeThingTypeCommand({ thingTypeName: 'sensor' }));
      assert.deepEqual(d.thingTypeProperties, props);
      assert.equal(d.thingTypeMetadata?.deprecated, false);
      assert.equal(d.thingTypeMetadata?.creationDate?.getTime(), t.clock.now());
      const tags = await t.iot.send(new ListTagsForResourceCommand({ resourceArn: created.thingTypeArn }));
      assert.deepEqual(tags.tags, [{ Key: 'team', Value: 'iot' }]);

      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'sensor-b' }));
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'gateway' }));
      const all = await t.iot.send(new ListThingTypesCommand({}));
      assert.deepEqual(all.thingTypes?.map((x) => x.thingTypeName), ['gateway', 'sensor', 'sensor-b']);
      const page1 = await t.iot.send(new ListThingTypesCommand({ maxResults: 2 }));
      const page2 = await t.iot.send(new ListThingTypesCommand({ maxResults: 2, nextToken: page1.nextToken }));
      assert.deepEqual([...page1.thingTypes!, ...page2.thingTypes!].map((x) => x.thingTypeName), ['gateway', 'sensor', 'sensor-b']);
      assert.equal(page2.nextToken, undefined);
      const named = await t.iot.send(new ListThingTypesCommand({ thingTypeName: 'sensor' }));
      assert.deepEqual(named.thingTypes?.map((x) => x.thingTypeName), ['sensor', 'sensor-b']);

      await expectAwsError(
        t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'four', thingTypeProperties: { searchableAttributes: ['a', 'b', 'c', 'd'] } })),
        'InvalidRequestException', { message: 'Only three searchable attributes are allowed for a thing type.' },
      );
      await expectAwsError(t.iot.send(new DescribeThingTypeCommand({ thingTypeName: 'four' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('typed things get 50 attributes; removing the type brings the limit of 3 back', async () => {
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'rich' }));
      const attributes = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
      await t.iot.send(new CreateThingCommand({ thingName: 'typed', thingTypeName: 'rich', attributePayload: { attributes } }));
      const d = await t.iot.send(new DescribeThingCommand({ thingName: 'typed' }));
      assert.equal(d.thingTypeName, 'rich');
      assert.equal(Object.keys(d.attributes!).length, 50);
      await expectAwsError(
        t.iot.send(new UpdateThingCommand({ thingName: 'typed', attributePayload: { attributes: { extra: '1' }, merge: true } })),
        'InvalidRequestException', { message: 'at most 50 attributes' },
      );
      // A different type is a different configuration.
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'typed', attributePayload: { attributes } })), 'ResourceAlreadyExistsException');

      await expectAwsError(t.iot.send(new UpdateThingCommand({ thingName: 'typed', removeThingType: true })), 'InvalidRequestException', { message: 'at most 3 attributes' });
      await expectAwsError(t.iot.send(new UpdateThingCommand({ thingName: 'typed', removeThingType: true, thingTypeName: 'rich' })), 'InvalidRequestException', { status: 400 });
      await t.iot.send(new UpdateThingCommand({ thingName: 'typed', removeThingType: true, attributePayload: { attributes: { only: 'one' } } }));
      const after = await t.iot.send(new DescribeThingCommand({ thingName: 'typed' }));
      assert.equal(after.thingTypeName, undefined);
      assert.deepEqual(after.attributes, { only: 'one' });
      assert.equal(after.version, 2);

      await expectAwsError(t.iot.send(new UpdateThingCommand({ thingName: 'typed', thingTypeName: 'nope' })), 'ResourceNotFoundException', { status: 404 });
      await t.iot.send(new UpdateThingCommand({ thingName: 'typed', thingTypeName: 'rich' }));
      assert.equal((await t.iot.send(new DescribeThingCommand({ thingName: 'typed' }))).thingTypeName, 'rich');
    });

    it('a deprecated type takes no new things; deletion waits 5 minutes after deprecation and for its things to go', async () => {
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'old' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'old-1', thingTypeName: 'old' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'plain' }));
      await expectAwsError(t.iot.send(new DeleteThingTypeCommand({ thingTypeName: 'old' })), 'InvalidRequestException', { message: 'deprecated' });

      await t.iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'old' }));
      const d = await t.iot.send(new DescribeThingTypeCommand({ thingTypeName: 'old' }));
      assert.equal(d.thingTypeMetadata?.deprecated, true);
      assert.equal(d.thingTypeMetadata?.deprecationDate?.getTime(), t.clock.now());
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'old-2', thingTypeName: 'old' })), 'InvalidRequestException', {
        status: 400, message: 'Can not create new thing with depreated thing type:old',
      });
      await expectAwsError(t.iot.send(new UpdateThingCommand({ thingName: 'plain', thingTypeName: 'old' })), 'InvalidRequestException', {
        message: 'Can not update a thing to use deprecated thing type: old',
      });
      // The existing association stays, and repeating the same create is still idempotent.
      await t.iot.send(new UpdateThingCommand({ thingName: 'old-1', thingTypeName: 'old' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'old-1', thingTypeName: 'old' }));

      await expectAwsError(t.iot.send(new DeleteThingTypeCommand({ thingTypeName: 'old' })), 'InvalidRequestException', { message: '5 minutes' });
      t.clock.advance(5 * 60 * 1000);
      await expectAwsError(t.iot.send(new DeleteThingTypeCommand({ thingTypeName: 'old' })), 'InvalidRequestException', { message: 'things are still associated' });
      await t.iot.send(new DeleteThingCommand({ thingName: 'old-1' }));
      await t.iot.send(new DeleteThingTypeCommand({ thingTypeName: 'old' }));
      await expectAwsError(t.iot.send(new DescribeThingTypeCommand({ thingTypeName: 'old' })), 'ResourceNotFoundException');

      // Undo: deprecated false again, things can use it.
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'back' }));
      await t.iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'back' }));
      await t.iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'back', undoDeprecate: true }));
      assert.equal((await t.iot.send(new DescribeThingTypeCommand({ thingTypeName: 'back' }))).thingTypeMetadata?.deprecated, false);
      await t.iot.send(new CreateThingCommand({ thingName: 'back-1', thingTypeName: 'back' }));
      await expectAwsError(t.iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'gone' })), 'ResourceNotFoundException');
    });
  });

  describe(`ListThings (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'cam' }));
      const things: [string, Record<string, string>, string?][] = [
        ['a-1', { site: 'berlin', floor: '1' }],
        ['a-2', { site: 'berlin-west' }, 'cam'],
        ['b-1', { site: 'paris', floor: '1' }, 'cam'],
        ['b_2', { site: 'Berlin' }],
        ['c-1', {}],
      ];
      for (const [thingName, attributes, thingTypeName] of things) {
        await t.iot.send(new CreateThingCommand({ thingName, thingTypeName, attributePayload: { attributes } }));
      }
    });
    after(async () => t?.close());

    const names = async (input: ListThingsCommandInput) => (await t.iot.send(new ListThingsCommand(input))).things?.map((x) => x.thingName);

    it('lists every thing by name with type, ARN, attributes and version', async () => {
      const out = await t.iot.send(new ListThingsCommand({}));
      assert.deepEqual(out.things?.map((x) => x.thingName), ['a-1', 'a-2', 'b-1', 'b_2', 'c-1']);
      assert.deepEqual(out.things?.[1], { thingName: 'a-2', thingTypeName: 'cam', thingArn: thingArn('a-2'), attributes: { site: 'berlin-west' }, version: 1 });
      assert.deepEqual(out.things?.[4].attributes, {});
      assert.equal(out.nextToken, undefined);
    });

    it('filters by attribute (exact, prefix, presence) and by thing type, combined with AND', async () => {
      assert.deepEqual(await names({ attributeName: 'site', attributeValue: 'berlin' }), ['a-1']);
      // Prefix matching is case-sensitive.
      assert.deepEqual(await names({ attributeName: 'site', attributeValue: 'berlin', usePrefixAttributeValue: true }), ['a-1', 'a-2']);
      assert.deepEqual(await names({ attributeName: 'floor' }), ['a-1', 'b-1']);
      assert.deepEqual(await names({ thingTypeName: 'cam' }), ['a-2', 'b-1']);
      assert.deepEqual(await names({ thingTypeName: 'cam', attributeName: 'floor', attributeValue: '1' }), ['b-1']);
      assert.deepEqual(await names({ attributeName: 'site', attributeValue: 'b_', usePrefixAttributeValue: true }), []);
      assert.deepEqual(await names({ thingTypeName: 'unknown' }), []);
      await expectAwsError(t.iot.send(new ListThingsCommand({ attributeValue: 'berlin' })), 'InvalidRequestException', { status: 400 });
    });

    it('paginates 1–250 per page, default 50, and rejects bad tokens and sizes', async () => {
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const out = await t.iot.send(new ListThingsCommand({ maxResults: 2, nextToken }));
        seen.push(...out.things!.map((x) => x.thingName!));
        nextToken = out.nextToken;
        pages++;
      } while (nextToken);
      assert.deepEqual(seen, ['a-1', 'a-2', 'b-1', 'b_2', 'c-1']);
      assert.equal(pages, 3);
      const filtered = await t.iot.send(new ListThingsCommand({ maxResults: 1, attributeName: 'floor' }));
      assert.deepEqual(filtered.things?.map((x) => x.thingName), ['a-1']);
      const rest = await t.iot.send(new ListThingsCommand({ maxResults: 1, attributeName: 'floor', nextToken: filtered.nextToken }));
      assert.deepEqual(rest.things?.map((x) => x.thingName), ['b-1']);

      await expectAwsError(t.iot.send(new ListThingsCommand({ maxResults: 0 })), 'InvalidRequestException', { message: 'Member must have value greater than or equal to 1' });
      await expectAwsError(t.iot.send(new ListThingsCommand({ maxResults: 251 })), 'InvalidRequestException', { message: 'Member must have value less than or equal to 250' });
      await t.iot.send(new ListThingsCommand({ maxResults: 250 }));
      await expectAwsError(t.iot.send(new ListThingsCommand({ nextToken: 'garbage' })), 'InvalidRequestException', { status: 400 });
    });
  });

  describe(`ListThings default page size (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    it('defaults to 50 per page', async () => {
      for (let i = 0; i < 51; i++) await t.iot.send(new CreateThingCommand({ thingName: `t${String(i).padStart(2, '0')}` }));
      const first = await t.iot.send(new ListThingsCommand({}));
      assert.equal(first.things?.length, 50);
      assert.ok(first.nextToken);
      const second = await t.iot.send(new ListThingsCommand({ nextToken: first.nextToken }));
      assert.deepEqual(second.things?.map((x) => x.thingName), ['t50']);
    });
  });

  describe(`things through the AWS CLI (${backend.name})`, { skip: backend.skip ?? awsCliSkipReason() }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    const aws = async (...args: string[]) => {
      const res = await runAwsCli(t.url, ['iot', ...args]);
      assert.equal(res.code, 0, `aws ${args[0]} exited ${res.code}: ${res.stderr}`);
      return res.json ?? {};
    };

    it('aws iot create-thing / update-thing / describe-thing / list-things / delete-thing', async () => {
      const created = await aws('create-thing', '--thing-name', 'cli-thing', '--attribute-payload', '{"attributes":{"model":"x1"}}');
      assert.equal(created.thingArn, thingArn('cli-thing'));
      const d = await aws('describe-thing', '--thing-name', 'cli-thing');
      assert.equal(d.version, 1);
      assert.equal(d.defaultClientId, 'cli-thing');
      assert.deepEqual(d.attributes, { model: 'x1' });
      assert.equal(d.thingId, created.thingId);
      await aws('update-thing', '--thing-name', 'cli-thing', '--attribute-payload', '{"attributes":{"fw":"2"},"merge":true}', '--expected-version', '1');
      const listed = await aws('list-things', '--attribute-name', 'fw', '--attribute-value', '2');
      assert.deepEqual((listed.things as { thingName: string; version: number }[]).map((x) => [x.thingName, x.version]), [['cli-thing', 2]]);
      const conflict = await runAwsCli(t.url, ['iot', 'delete-thing', '--thing-name', 'cli-thing', '--expected-version', '1']);
      assert.notEqual(conflict.code, 0);
      assert.match(conflict.stderr, /\(VersionConflictException\)/);
      await aws('delete-thing', '--thing-name', 'cli-thing', '--expected-version', '2');
      await expectAwsError(t.iot.send(new DescribeThingCommand({ thingName: 'cli-thing' })), 'ResourceNotFoundException');
    });

    it('aws iot thing groups and membership', async () => {
      await aws('create-thing', '--thing-name', 'cli-member');
      await aws('create-thing-group', '--thing-group-name', 'cli-root', '--tags', 'Key=env,Value=test');
      await aws('create-thing-group', '--thing-group-name', 'cli-child', '--parent-group-name', 'cli-root',
        '--thing-group-properties', 'thingGroupDescription=child,attributePayload={attributes={k=v}}');
      const g = await aws('describe-thing-group', '--thing-group-name', 'cli-child');
      assert.equal(g.version, 1);
      assert.deepEqual(g.thingGroupProperties, { thingGroupDescription: 'child', attributePayload: { attributes: { k: 'v' } } });
      const meta = g.thingGroupMetadata as { parentGroupName: string; rootToParentThingGroups: unknown[]; creationDate: number };
      assert.equal(meta.parentGroupName, 'cli-root');
      assert.equal(Math.round(meta.creationDate * 1000), t.clock.now());
      await aws('add-thing-to-thing-group', '--thing-name', 'cli-member', '--thing-group-name', 'cli-child');
      const members = await aws('list-things-in-thing-group', '--thing-group-name', 'cli-root', '--recursive');
      assert.deepEqual(members.things, ['cli-member']);
      const updated = await aws('update-thing-group', '--thing-group-name', 'cli-child', '--thing-group-properties', 'thingGroupDescription=renamed', '--expected-version', '1');
      assert.equal(updated.version, 2);
      const refused = await runAwsCli(t.url, ['iot', 'delete-thing-group', '--thing-group-name', 'cli-root']);
      assert.match(refused.stderr, /\(InvalidRequestException\).*Cannot delete thing group : cli-root when there are still child groups attached to it/);
      await aws('delete-thing-group', '--thing-group-name', 'cli-child');
      assert.deepEqual((await aws('list-thing-groups-for-thing', '--thing-name', 'cli-member')).thingGroups, []);
    });
  });
}
