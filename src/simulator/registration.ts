import { signedJson, type ClientTarget } from '../cli/client.js';

/**
 * The simulator's things, registered through the control plane as a user's script would: the
 * group if it is missing, then each thing and its membership, a few requests at a time.
 */
export class RegistrationError extends Error {}

const CONCURRENCY = 16;

export function simulatedThingNames(group: string, count: number): string[] {
  const width = Math.max(6, String(count).length);
  return Array.from({ length: count }, (_, i) => `${group}-${String(i + 1).padStart(width, '0')}`);
}

export async function registerFleet(target: ClientTarget, group: string, things: string[], onProgress?: (done: number) => void): Promise<void> {
  const path = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  const described = await signedJson(target, 'GET', `/thing-groups/${path(group)}`);
  if (described.status === 404) {
    await expectOk(await signedJson(target, 'POST', `/thing-groups/${path(group)}`, {}), `CreateThingGroup ${group}`);
  } else {
    await expectOk(described, `DescribeThingGroup ${group}`);
  }
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < things.length) {
      const thingName = things[next++];
      // CreateThing of a thing that exists with the same settings succeeds (AWS), so a rerun is fine.
      await expectOk(await signedJson(target, 'POST', `/things/${path(thingName)}`, {}), `CreateThing ${thingName}`);
      await expectOk(await signedJson(target, 'PUT', '/thing-groups/addThingToThingGroup', { thingGroupName: group, thingName }), `AddThingToThingGroup ${thingName}`);
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, things.length) }, worker));
}

export async function expectOk(res: { status: number; json: unknown; text: string }, what: string): Promise<void> {
  if (res.status >= 200 && res.status < 300) return;
  const err = res.json as { __type?: string; message?: string } | undefined;
  throw new RegistrationError(`${what}: ${err?.__type ?? `HTTP ${res.status}`}: ${err?.message ?? res.text}`);
}
