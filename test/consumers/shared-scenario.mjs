// The scenario both consumer suites (Jest, Vitest) run against `fleetjobs/testing`, as a user's
// suite would: seeded fixtures, a paced rollout driven by the clock, a reset back to the seed.
import { CreateJobCommand, CreateThingCommand, DescribeJobCommand, IoTClient, ListThingsCommand } from '@aws-sdk/client-iot';
import { startFleetjobs } from 'fleetjobs/testing';

const things = Array.from({ length: 20 }, (_, i) => `dev-${String(i).padStart(2, '0')}`);

export async function start() {
  const fleet = await startFleetjobs({
    seed: { thingGroups: [{ thingGroupName: 'lab' }], things: things.map((thingName) => ({ thingName, thingGroups: ['lab'] })) },
  });
  const iot = new IoTClient({ endpoint: fleet.endpoint, region: fleet.region, credentials: fleet.credentials, maxAttempts: 1 });
  return { fleet, iot };
}

/** Returns what the suite asserts: things seen, releases before and after an hour, things after a reset. */
export async function run({ fleet, iot }) {
  const seen = (await iot.send(new ListThingsCommand({}))).things.length;
  await fleet.clock.freeze();
  await iot.send(new CreateJobCommand({
    jobId: 'paced',
    targets: [`arn:aws:iot:${fleet.region}:123456789012:thinggroup/lab`],
    document: '{}',
    jobExecutionsRolloutConfig: { maximumPerMinute: 5 },
  }));
  const released = async () => {
    const d = (await iot.send(new DescribeJobCommand({ jobId: 'paced' }))).job.jobProcessDetails;
    return d.numberOfQueuedThings + d.numberOfInProgressThings;
  };
  const before = await released();
  const startedAt = await fleet.clock.now();
  const after = await fleet.clock.advance(3600).then(released);
  const movedSeconds = ((await fleet.clock.now()) - startedAt) / 1000;
  await iot.send(new CreateThingCommand({ thingName: 'extra' }));
  await fleet.reset();
  const afterReset = (await iot.send(new ListThingsCommand({}))).things.length;
  return { seen, before, after, movedSeconds, afterReset };
}

export async function stop({ fleet, iot }) {
  iot.destroy();
  await fleet.stop();
}

/** What `run` answers when fleetjobs behaves: 20 seeded things, 5 released at once, all 20 an hour later, the seed back after a reset. */
export const EXPECTED = { seen: 20, before: 5, after: 20, movedSeconds: 3600, afterReset: 20 };
