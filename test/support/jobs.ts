import { AddThingToThingGroupCommand, CreateThingCommand, CreateThingGroupCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { after, before } from 'node:test';
import type { Backend } from './backends.js';
import { ACCOUNT, REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from './server.js';

/** An iot-jobs-data (HTTPS device data plane) client pointed at a test server; the caller destroys it. */
export function jobsDataClient(t: TestServer): IoTJobsDataPlaneClient {
  return new IoTJobsDataPlaneClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}

export const thingArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${name}`;
export const groupArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${name}`;
export const jobArn = (id: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:job/${id}`;
export const packageVersionArn = (p: string, v: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:package/${p}/version/${v}`;

/** Creates things (if missing) and, when `group` is given, the group (optionally under a parent) with them in it. */
export async function seedGroup(t: TestServer, group: string, things: string[], parentGroupName?: string): Promise<void> {
  await t.iot.send(new CreateThingGroupCommand({ thingGroupName: group, ...(parentGroupName ? { parentGroupName } : {}) }));
  for (const thing of things) {
    await seedThing(t, thing);
    await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: thing }));
  }
}

export async function seedThing(t: TestServer, thing: string): Promise<void> {
  await t.iot.send(new CreateThingCommand({ thingName: thing }));
}

/** DescribeJob's counters and status, for compact assertions. */
export async function jobState(t: TestServer, jobId: string) {
  const { job } = await t.iot.send(new DescribeJobCommand({ jobId }));
  const d = job!.jobProcessDetails!;
  return {
    status: job!.status,
    targetSelection: job!.targetSelection,
    queued: d.numberOfQueuedThings,
    inProgress: d.numberOfInProgressThings,
    succeeded: d.numberOfSucceededThings,
    failed: d.numberOfFailedThings,
    rejected: d.numberOfRejectedThings,
    canceled: d.numberOfCanceledThings,
    removed: d.numberOfRemovedThings,
    timedOut: d.numberOfTimedOutThings,
    completedAt: job!.completedAt,
  };
}

export const counters = (partial: Partial<Record<'queued' | 'inProgress' | 'succeeded' | 'failed' | 'rejected' | 'canceled' | 'removed' | 'timedOut', number>>) => ({
  queued: 0, inProgress: 0, succeeded: 0, failed: 0, rejected: 0, canceled: 0, removed: 0, timedOut: 0, ...partial,
});

export const pickCounters = (s: Awaited<ReturnType<typeof jobState>>) => ({
  queued: s.queued, inProgress: s.inProgress, succeeded: s.succeeded, failed: s.failed,
  rejected: s.rejected, canceled: s.canceled, removed: s.removed, timedOut: s.timedOut,
});

/**
 * For a describe block: a test server on `backend` and a jobs data-plane client, started before its
 * tests and closed after them. Read them as `s.t` and `s.devices` inside the tests.
 */
export function jobsServerForSuite(backend: Backend): { t: TestServer; devices: IoTJobsDataPlaneClient } {
  const suite = {} as { t: TestServer; devices: IoTJobsDataPlaneClient };
  before(async () => {
    suite.t = await startTestServer(backend);
    suite.devices = jobsDataClient(suite.t);
  });
  after(async () => {
    suite.devices?.destroy();
    await suite.t?.close();
  });
  return suite;
}
