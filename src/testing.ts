import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startServer } from './app.js';
import { resolveConfig } from './config/config.js';

/**
 * `import { startFleetjobs } from 'fleetjobs/testing'`: fleetjobs in the test process, as a test
 * double for AWS IoT (issue 13). It starts `--test-mode` on a free loopback port with a fresh data
 * dir and its own key, and hands back what an SDK client needs plus the test-mode controls, which
 * are the very objects `/_fleetjobs/clock`, `/reset` and `/seed` drive.
 */
export interface StartFleetjobsOptions {
  /** The region in ARNs and signatures (default us-east-1). */
  region?: string;
  /** Fixtures created before it answers, in the `--seed` format; a reset comes back to them. */
  seed?: Record<string, unknown>;
  /** The embedded MQTT broker on a free port (default true); its URL is `mqttUrl`. */
  mqtt?: boolean;
  /** pino level for the server's log (default silent). */
  logLevel?: string;
}

export interface FleetjobsClock {
  /** The server's current time. */
  now(): Promise<Date>;
  freeze(): Promise<Date>;
  /** Sets the time (and freezes the clock there); forward, the engine goes through every moment on the way. */
  set(date: Date | string): Promise<Date>;
  /** Moves time forward; resolves once the engine has caught up, so a test can assert at once. */
  advance(seconds: number): Promise<Date>;
  /** Lets the clock run from where it stands. */
  run(): Promise<Date>;
}

export interface Fleetjobs {
  /** e.g. http://127.0.0.1:53312, for `endpoint` in an AWS SDK client (and `forcePathStyle` for S3). */
  endpoint: string;
  /** Where devices connect over MQTT, unless `mqtt: false`. */
  mqttUrl?: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  clock: FleetjobsClock;
  /** Every resource gone (back to the seed, if one was given). */
  reset(): Promise<void>;
  /** Loads more fixtures; an invalid seed changes nothing and throws, naming the entry. */
  seed(seed: Record<string, unknown>): Promise<void>;
  /** Stops the server and deletes its data dir; no handle is left open. */
  stop(): Promise<void>;
}

export async function startFleetjobs(options: StartFleetjobsOptions = {}): Promise<Fleetjobs> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-testing-'));
  const credentials = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    const config = resolveConfig(
      { host: '127.0.0.1', port: 0, dataDir, testMode: true, region: options.region, mqttPort: options.mqtt === false ? undefined : 0, mqtt: options.mqtt !== false },
      // Only what this call decides: nothing from the test process's FLEETJOBS_* environment.
      { FLEETJOBS_ACCESS_KEY_ID: credentials.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    );
    // The seed is the server's start seed: every reset (this one's or /_fleetjobs/reset) comes back to it.
    server = await startServer({ config, logger: pino({ level: options.logLevel ?? 'silent' }), ...(options.seed ? { seed: options.seed } : {}) });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const controls = server.testMode!;
  const region = options.region ?? 'us-east-1';
  const loadSeed = async (seed: Record<string, unknown>) => {
    await controls.seeds.load(seed);
  };
  const change = async (body: Record<string, unknown>) => new Date((await controls.clock.change(body)).now);
  let stopped = false;
  return {
    endpoint: server.url,
    ...(server.mqttUrl ? { mqttUrl: server.mqttUrl } : {}),
    region,
    credentials,
    clock: {
      now: async () => new Date(controls.clock.state().now),
      freeze: () => change({ freeze: true }),
      set: (date) => change({ set: new Date(date).toISOString() }),
      advance: (seconds) => change({ advanceSeconds: seconds }),
      run: () => change({ run: true }),
    },
    async reset() {
      await controls.reset.reset();
    },
    seed: loadSeed,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
