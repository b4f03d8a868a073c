import { IoTClient } from '@aws-sdk/client-iot';
import pino from 'pino';
import { startServer, type ServerOptions } from '../../src/app.js';
import { resolveConfig } from '../../src/config/config.js';
import { POSTGRES_URL, type Backend } from './backends.js';
import { REGION, TEST_CREDENTIALS, type TestServer } from './server.js';

/**
 * Stops a test server and starts a new one on the same data directory and database schema — a
 * restart, as after a crash or a deploy. The returned server's close() also cleans up after the
 * first one (its data directory and schema).
 */
export async function restartTestServer(t: TestServer, backend: Backend, overrides: Partial<ServerOptions> = {}): Promise<TestServer> {
  t.iot.destroy();
  await t.server.close();
  const config = resolveConfig(
    { port: 0, mqttPort: 0, dataDir: t.dataDir, databaseUrl: backend.name === 'postgres' ? POSTGRES_URL : undefined },
    { FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
  );
  const server = await startServer({ config, clock: t.clock, logger: pino({ level: 'silent' }), databaseSchema: t.schema, ...overrides });
  const iot = new IoTClient({ endpoint: server.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  return {
    server,
    url: server.url,
    clock: t.clock,
    dataDir: t.dataDir,
    schema: t.schema,
    iot,
    advance: (ms) => server.engine.advance(ms),
    async close() {
      iot.destroy();
      await server.close();
      await t.close(); // the first server is closed already; this removes the data dir and schema
    },
  };
}
