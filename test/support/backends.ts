import pg from 'pg';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** Why this backend's tests are skipped on this machine, if they are. */
  skip?: string;
}

export const POSTGRES_URL = process.env.FLEETJOBS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let postgresProbe: Promise<string | undefined> | undefined;

function probePostgres(): Promise<string | undefined> {
  postgresProbe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (err) {
      return `PostgreSQL not reachable at ${POSTGRES_URL} (${(err as Error).message}); set FLEETJOBS_TEST_DATABASE_URL or start PostgreSQL`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresProbe;
}

/** Every integration suite runs once per storage backend; FLEETJOBS_TEST_BACKENDS=sqlite narrows it. */
export async function testBackends(): Promise<Backend[]> {
  const wanted = (process.env.FLEETJOBS_TEST_BACKENDS ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  const out: Backend[] = [];
  if (wanted.includes('sqlite')) out.push({ name: 'sqlite' });
  if (wanted.includes('postgres')) out.push({ name: 'postgres', skip: await probePostgres() });
  return out;
}
