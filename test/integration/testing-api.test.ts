import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateThingCommand, DescribeThingCommand, IoTClient, ListThingsCommand } from '@aws-sdk/client-iot';
import { startFleetjobs } from '../../src/testing.js';

/**
 * The in-process API (`fleetjobs/testing`): under node:test from source here, and as a user's
 * Jest and Vitest suites import the built package (test/consumers/), each run by the real runner.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));

function runNode(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // A child that never ends (a handle left open) is killed and reported, not waited on forever.
    const hung = setTimeout(() => {
      out += '\n[killed: still running after 120 s]';
      child.kill('SIGKILL');
    }, 120_000);
    child.on('exit', (code) => {
      clearTimeout(hung);
      resolve({ code, out });
    });
  });
}

/** The consumers import dist/ (the package's exports): built from the current sources first if stale. */
async function ensureBuilt(): Promise<void> {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  const built = join(REPO, 'dist', 'testing.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(REPO, 'src'))) return;
  const r = await runNode([join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  assert.equal(r.code, 0, `npm run build failed:\n${r.out}`);
}

describe('fleetjobs/testing', () => {
  it('starts a test-mode server whose clock, reset and seed an SDK client sees, and stops it', async () => {
    const fleet = await startFleetjobs({ region: 'eu-west-1', seed: { things: [{ thingName: 'seeded', attributes: { lab: 'a' } }] } });
    const iot = new IoTClient({ endpoint: fleet.endpoint, region: fleet.region, credentials: fleet.credentials, maxAttempts: 1 });
    try {
      assert.match(fleet.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(fleet.mqttUrl ?? '', /^mqtt:\/\/127\.0\.0\.1:\d+$/);
      const seeded = await iot.send(new DescribeThingCommand({ thingName: 'seeded' }));
      assert.equal(seeded.thingArn, `arn:aws:iot:eu-west-1:${seeded.thingArn!.split(':')[4]}:thing/seeded`);
      assert.deepEqual(seeded.attributes, { lab: 'a' });

      const set = await fleet.clock.set('2030-01-01T00:00:00Z');
      assert.equal(set.toISOString(), '2030-01-01T00:00:00.000Z');
      // Thirty days on, the SDK client (signing with the wall clock) still gets answers.
      const later = await fleet.clock.advance(30 * 86400);
      assert.equal(later.toISOString(), '2030-01-31T00:00:00.000Z');
      assert.equal((await fleet.clock.now()).toISOString(), '2030-01-31T00:00:00.000Z');
      await iot.send(new CreateThingCommand({ thingName: 'made' }));
      assert.ok((await fleet.clock.run()).getTime() >= later.getTime());
      await fleet.clock.freeze();

      await assert.rejects(fleet.seed({ things: [{ thingName: 'ok' }, { thingName: 'no spaces' }] }), /things\[1\]\.thingName: /);
      await fleet.seed({ things: [{ thingName: 'more' }] });
      assert.deepEqual(((await iot.send(new ListThingsCommand({}))).things ?? []).map((x) => x.thingName).sort(), ['made', 'more', 'seeded']);
      await fleet.reset();
      assert.deepEqual(((await iot.send(new ListThingsCommand({}))).things ?? []).map((x) => x.thingName), ['seeded'], 'back to the seed');
      // moto's reset, as a Python suite beside it would send, comes back to the seed too.
      await iot.send(new CreateThingCommand({ thingName: 'again' }));
      assert.equal((await fetch(`${fleet.endpoint}/moto-api/reset`, { method: 'POST' })).status, 200);
      assert.deepEqual(((await iot.send(new ListThingsCommand({}))).things ?? []).map((x) => x.thingName), ['seeded']);
    } finally {
      iot.destroy();
      await fleet.stop();
    }
  });

  it('leaves no open handle after stop(): the test process exits by itself', async () => {
    const script = [
      "import { startFleetjobs } from './src/testing.ts';",
      'const f = await startFleetjobs();',
      "await f.clock.advance(60);",
      'await f.stop();',
      "console.log('stopped');",
    ].join('\n');
    // No process.exit anywhere: the child ends only when nothing keeps its event loop alive.
    const r = await runNode(['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /stopped/);
  });

  it('works in a Jest suite (ESM) that imports fleetjobs/testing', async () => {
    await ensureBuilt();
    const r = await runNode([join(REPO, 'node_modules', 'jest', 'bin', 'jest.js'), '--rootDir', 'test/consumers/jest', '--ci'], { NODE_OPTIONS: '--experimental-vm-modules' });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Tests:\s+1 passed, 1 total/);
    assert.doesNotMatch(r.out, /did not exit|open handle/i);
  });

  it('works in a Vitest suite that imports fleetjobs/testing', async () => {
    await ensureBuilt();
    const r = await runNode([join(REPO, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', 'test/consumers/vitest'], { NO_COLOR: '1' });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Tests\s+1 passed/);
  });
});
