import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateThingCommand,
  DescribeJobCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  GetPackageCommand,
  ListJobExecutionsForJobCommand,
  ListPackageVersionsCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { GetThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { testBackends } from '../support/backends.js';
import { FleetProcess, FleetStorage } from '../support/fleet-process.js';
import { iotDataClient } from '../support/iot-data.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { ServeProcess } from '../support/serve-process.js';
import { ACCOUNT, REGION, startTestServer, type TestServer } from '../support/server.js';

/**
 * Test mode's seeds (`--seed FILE` at start, `POST /_fleetjobs/seed` at run time): fixtures of
 * every kind through the API calls they stand for, seen through the APIs; invalid seeds change
 * nothing and name the entry; a reset comes back to the start seed.
 */
const START_SEED_YAML = `
thingTypes:
  - thingTypeName: sensor
thingGroups:
  - thingGroupName: fleet
  - thingGroupName: fleet-eu
    parentGroupName: fleet
things:
  - thingName: dev-1
    thingTypeName: sensor
    attributes: { site: lab }
    thingGroups: [fleet-eu]
  - thingName: dev-2
    thingGroups: [fleet-eu]
packages:
  - packageName: fw
    description: firmware
    defaultVersionName: "2.0.1"
    versions:
      - { versionName: "2.0.0", status: DEPRECATED }
      - { versionName: "2.0.1", status: PUBLISHED, attributes: { channel: stable } }
      - { versionName: "2.1.0" }
shadows:
  - thingName: dev-1
    state: { reported: { fw: "2.0.0" } }
  - thingName: dev-1
    shadowName: config
    state: { desired: { interval: 60 } }
jobs:
  - jobId: upgrade
    targets: ["arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/fleet"]
    document: '{"to":"2.0.1"}'
`;

for (const backend of await testBackends()) {
  describe(`test mode: seeds (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      const dir = (await import('node:os')).tmpdir();
      const file = join(dir, `fleetjobs-seed-${process.pid}-${backend.name}.yaml`);
      await writeFile(file, START_SEED_YAML);
      t = await startTestServer(backend, { clock: undefined }, { FLEETJOBS_TEST_MODE: '1', FLEETJOBS_SEED: file });
    });
    after(async () => t?.close());

    const seed = (body: unknown) => sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/seed', body: JSON.stringify(body) });
    const thingNames = async () => ((await t.iot.send(new ListThingsCommand({}))).things ?? []).map((x) => x.thingName).sort();

    async function assertStartSeed(): Promise<void> {
      const dev1 = await t.iot.send(new DescribeThingCommand({ thingName: 'dev-1' }));
      assert.equal(dev1.thingTypeName, 'sensor');
      assert.deepEqual(dev1.attributes, { site: 'lab' });
      assert.equal(dev1.thingArn, `arn:aws:iot:${REGION}:${ACCOUNT}:thing/dev-1`);
      const eu = await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'fleet-eu' }));
      assert.equal(eu.thingGroupMetadata?.parentGroupName, 'fleet');
      const members = await t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'fleet-eu' }));
      assert.deepEqual(members.things?.sort(), ['dev-1', 'dev-2']);
      const pkg = await t.iot.send(new GetPackageCommand({ packageName: 'fw' }));
      assert.equal(pkg.defaultVersionName, '2.0.1');
      assert.equal(pkg.description, 'firmware');
      const versions = await t.iot.send(new ListPackageVersionsCommand({ packageName: 'fw' }));
      assert.deepEqual(Object.fromEntries(versions.packageVersionSummaries!.map((v) => [v.versionName, v.status])), { '2.0.0': 'DEPRECATED', '2.0.1': 'PUBLISHED', '2.1.0': 'DRAFT' });
      const data = iotDataClient(t);
      try {
        const classic = JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: 'dev-1' }))).payload!).toString());
        assert.deepEqual(classic.state, { reported: { fw: '2.0.0' } });
        const named = JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: 'dev-1', shadowName: 'config' }))).payload!).toString());
        assert.deepEqual(named.state, { desired: { interval: 60 }, delta: { interval: 60 } });
      } finally {
        data.destroy();
      }
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'upgrade' }));
      assert.equal(job?.status, 'IN_PROGRESS');
      const executions = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'upgrade' }));
      assert.deepEqual(executions.executionSummaries?.map((e) => [e.thingArn?.split('/').pop(), e.jobExecutionSummary?.status]).sort(), [['dev-1', 'QUEUED'], ['dev-2', 'QUEUED']]);
    }

    it('creates every kind of fixture at start from a YAML file, as the API calls would', assertStartSeed);

    it('loads more at run time and answers what it created', async () => {
      const res = await seed({ things: [{ thingName: 'dev-3', thingGroups: ['fleet-eu'] }], shadows: [{ thingName: 'dev-3', state: { reported: { fw: '2.0.1' } } }] });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { status: 'ok', created: { thingTypes: 0, thingGroups: 0, things: 1, packages: 0, shadows: 1, jobs: 0 } });
      assert.deepEqual(await thingNames(), ['dev-1', 'dev-2', 'dev-3']);
      assert.deepEqual((await seed({})).json, { status: 'ok', created: { thingTypes: 0, thingGroups: 0, things: 0, packages: 0, shadows: 0, jobs: 0 } });
    });

    it('refuses an invalid seed, naming the entry, and changes nothing', async () => {
      const before = await thingNames();
      const cases: [unknown, RegExp][] = [
        [{ things: [{ thingName: 'ok-1' }, { thingName: 'bad name!' }] }, /^things\[1\]\.thingName: /],
        [{ things: [{ thingName: 'ok-2', colour: 'red' }] }, /^things\[0\]\.colour: unknown field/],
        [{ frobs: [] }, /^frobs: unknown section/],
        [{ things: {} }, /^things: must be a list/],
        [{ things: [{ thingName: 'ok-3', thingGroups: ['no-such-group'] }] }, /^things\[0\]\.thingGroups\[0\]: ResourceNotFoundException/],
        [{ things: [{ thingName: 'ok-4', thingTypeName: 'no-such-type' }] }, /^things\[0\]\.thingTypeName: ResourceNotFoundException/],
        [{ thingGroups: [{ thingGroupName: 'orphan', parentGroupName: 'no-such-parent' }] }, /^thingGroups\[0\]\.parentGroupName: InvalidRequestException: Parent thing group no-such-parent does not exist/],
        [{ packages: [{ packageName: 'p2', versions: [{ versionName: '1.0', status: 'GONE' }] }] }, /^packages\[0\]\.versions\[0\]\.status: must be one of/],
        [{ packages: [{ packageName: 'p3', defaultVersionName: '9.9', versions: [{ versionName: '1.0' }] }] }, /^packages\[0\]\.defaultVersionName: /],
        [{ shadows: [{ thingName: 'dev-1', state: 'on' }] }, /^shadows\[0\]\.state: must be an object/],
        // Valid things and groups before it, and a job that is refused: none of it stays.
        [{ thingGroups: [{ thingGroupName: 'late' }], things: [{ thingName: 'ok-5', thingGroups: ['late'] }], jobs: [{ jobId: 'j', targets: [`arn:aws:iot:${REGION}:${ACCOUNT}:thing/ok-5`] }] }, /^jobs\[0\]: /],
        [{ jobs: [{ jobId: 'j2', targets: [`arn:aws:iot:${REGION}:${ACCOUNT}:thing/dev-1`], documentSource: 'https://s3.amazonaws.com/b/k' }] }, /^jobs\[0\]\.documentSource: /],
      ];
      for (const [body, message] of cases) {
        const res = await seed(body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.json?.__type, 'InvalidRequestException');
        assert.match(String(res.json?.message), message, JSON.stringify(body));
      }
      assert.deepEqual(await thingNames(), before, 'no thing of a refused seed exists');
      const groups = await sendSigned(t.url, { method: 'GET', path: '/thing-groups' });
      assert.ok(!JSON.stringify(groups.json).includes('"late"'), 'nor any group');
    });

    it('comes back to the start seed after a reset', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'after-start' }));
      assert.equal((await sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/reset' })).status, 200);
      assert.deepEqual(await thingNames(), ['dev-1', 'dev-2']);
      await assertStartSeed();
    });
  });

  describe(`--seed at start (${backend.name})`, { skip: backend.skip }, () => {
    let storage: FleetStorage;
    const procs: FleetProcess[] = [];
    before(async () => {
      storage = await FleetStorage.create(backend);
    });
    after(async () => {
      for (const p of procs) p.kill();
      await storage?.destroy();
    });

    it('stops the start of a server whose seed is invalid, naming the entry, and seeds a fresh data dir only once', async () => {
      const bad = join(storage.dataDir, 'bad.json');
      await writeFile(bad, JSON.stringify({ things: [{ thingName: 'fine' }, { thingName: '' }] }));
      const args = ['serve', '--test-mode', '--port', '0', '--mqtt-port', '0', '--data-dir', storage.dataDir, '--seed', bad, ...(storage.databaseUrl ? ['--database-url', storage.databaseUrl] : [])];
      const refused = new ServeProcess(args, {});
      const { code } = await refused.exited;
      assert.equal(code, 1, refused.stdout);
      assert.match(refused.stderr, /fleetjobs: cannot start: seed file .*bad\.json: things\[1\]\.thingName: /);
      assert.doesNotMatch(refused.stderr, /\n\s+at /, 'one line, no stack');

      const good = join(storage.dataDir, 'good.json');
      await writeFile(good, JSON.stringify({ things: [{ thingName: 'fine' }] }));
      const first = await FleetProcess.start(storage, ['--seed', good]);
      procs.push(first);
      assert.deepEqual((await first.iot.send(new ListThingsCommand({}))).things?.map((x) => x.thingName), ['fine']);
      await first.stop();
      // A restart on the same data dir keeps what is there and does not seed it again.
      const second = await FleetProcess.start(storage, ['--seed', good]);
      procs.push(second);
      assert.deepEqual((await second.iot.send(new ListThingsCommand({}))).things?.map((x) => x.thingName), ['fine']);
    });
  });
}
