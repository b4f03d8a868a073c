import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreatePackageCommand, GetPackageCommand, IoTClient, ListPackagesCommand } from '@aws-sdk/client-iot';
import pg from 'pg';
import { POSTGRES_URL, testBackends } from '../support/backends.js';
import { sendRaw } from '../support/raw-signed-http.js';
import { expectAwsError } from '../support/server.js';
import { startMoto, type MotoServer } from '../support/moto.js';
import { LISTENING, ServeProcess } from '../support/serve-process.js';

/** The real process (src/cli/main.ts): banner, generated credentials, --no-auth, signals, bad settings. */
for (const backend of await testBackends()) {
  describe(`fleetjobs serve process (${backend.name})`, { skip: backend.skip }, () => {
    let root: string;
    const schemas: string[] = [];
    const processes: ServeProcess[] = [];
    const clients: IoTClient[] = [];
    let moto: MotoServer | undefined;

    /** --database-url for this backend: on PostgreSQL a fresh schema of its own, through the connection options. */
    async function database(): Promise<string[]> {
      if (backend.name !== 'postgres') return [];
      const schema = `fj_${process.pid}_serve_${Math.random().toString(36).slice(2, 8)}`;
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.end();
      schemas.push(schema);
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return ['--database-url', url.toString()];
    }

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'fleetjobs-serve-'));
    });
    after(async () => {
      for (const c of clients) c.destroy();
      for (const p of processes) p.kill();
      await Promise.all(processes.map((p) => p.exited));
      await moto?.stop();
      await rm(root, { recursive: true, force: true });
      if (schemas.length) {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
    });

    function serve(args: string[], env: Record<string, string> = {}): ServeProcess {
      // Port 1883 is this machine's Mosquitto: the embedded broker takes any free port unless told.
      const mqtt = args.includes('--mqtt-port') || args.includes('--no-mqtt') ? [] : ['--mqtt-port', '0'];
      const p = new ServeProcess(['serve', ...mqtt, ...args], env);
      processes.push(p);
      return p;
    }
    function iot(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, region = 'us-east-1'): IoTClient {
      const c = new IoTClient({ endpoint, region, credentials, maxAttempts: 1 });
      clients.push(c);
      return c;
    }

    it('prints the URL first, generates credentials once, keeps them, and stops on SIGTERM', async () => {
      const dataDir = join(root, 'generated');
      const databaseArgs = await database();
      const first = serve(['--port', '0', '--data-dir', dataDir, ...databaseArgs]);
      const url = await first.url();
      assert.match(first.lines[0], backend.name === 'sqlite' ? /storage sqlite / : /storage postgres /);
      await first.waitForLine((l) => l.includes('AWS_SECRET_ACCESS_KEY='));
      const printedKey = /AWS_ACCESS_KEY_ID=(\S+)/.exec(first.stdout)?.[1];
      const printedSecret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(first.stdout)?.[1];
      assert.ok(printedKey && printedSecret, first.stdout);
      assert.match(first.stdout, /credentials\.json/);

      const file = join(dataDir, 'credentials.json');
      const stored = JSON.parse(await readFile(file, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
      assert.deepEqual(stored, { accessKeyId: printedKey, secretAccessKey: printedSecret });
      assert.equal((await stat(file)).mode & 0o777, 0o600, 'the key file is private');

      const client = iot(url, { ...stored });
      await client.send(new CreatePackageCommand({ packageName: 'proc-a', description: 'survives a restart' }));
      assert.deepEqual((await client.send(new ListPackagesCommand({}))).packageSummaries?.map((s) => s.packageName), ['proc-a']);
      const unsigned = await sendRaw(url, { method: 'GET', path: '/packages' });
      assert.equal(unsigned.status, 403);

      // The client still holds a keep-alive connection: shutdown must not wait on it.
      const stop = await first.terminate();
      assert.equal(stop.code, 0, first.stderr);
      assert.ok(stop.ms < 5_000, `SIGTERM took ${stop.ms} ms`);
      assert.match(first.stdout, /"signal":"SIGTERM","msg":"shutting down"/);

      const second = serve(['--port', '0', '--data-dir', dataDir, ...databaseArgs]);
      const url2 = await second.url();
      const again = iot(url2, { ...stored });
      assert.equal((await again.send(new GetPackageCommand({ packageName: 'proc-a' }))).description, 'survives a restart');
      await expectAwsError(iot(url2, { accessKeyId: printedKey!, secretAccessKey: 'guess' }).send(new ListPackagesCommand({})), 'InvalidSignatureException');
      const stop2 = await second.terminate();
      assert.equal(stop2.code, 0, second.stderr);
      assert.doesNotMatch(second.stdout, /AWS_SECRET_ACCESS_KEY|Generated credentials/, 'credentials are shown only on the first start');
      assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), stored, 'the key pair is kept');
    });

    // Only PostgreSQL keeps the key pair in the database (SQLite's stays in the data dir, tested above).
    if (backend.name === 'postgres') it('with PostgreSQL keeps the generated key pair in the database: instances started at once on other data dirs accept one key', async () => {
      // Instances on other data dirs share objects only through an S3 service they all reach.
      moto ??= await startMoto();
      const db = [...(await database()), '--s3-endpoint', moto.url, '--s3-force-path-style', '--s3-access-key-id', 'testing', '--s3-secret-access-key', 'testing'];
      const [dirA, dirB, dirC] = ['node-a', 'node-b', 'node-c'].map((d) => join(root, d));
      const a = serve(['--port', '0', '--data-dir', dirA, ...db]);
      const b = serve(['--port', '0', '--data-dir', dirB, ...db]);
      const [urlA, urlB] = await Promise.all([a.url(), b.url()]);
      // Both race to store a pair; exactly one stores (and prints) it, the other takes that one.
      const printers = [a, b].filter((p) => /Generated credentials \(kept in the database, with a copy in .*credentials\.json/.test(p.stdout));
      assert.equal(printers.length, 1, `one instance generates the pair:\n${a.stdout}\n${b.stdout}`);
      const key = /AWS_ACCESS_KEY_ID=(\S+)/.exec(printers[0].stdout)![1];
      const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(printers[0].stdout)![1];
      for (const dir of [dirA, dirB]) {
        assert.deepEqual(JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')), { accessKeyId: key, secretAccessKey: secret }, `${dir} holds the shared pair`);
      }
      await iot(urlA, { accessKeyId: key, secretAccessKey: secret }).send(new CreatePackageCommand({ packageName: 'shared-key', description: 'through A' }));
      assert.equal((await iot(urlB, { accessKeyId: key, secretAccessKey: secret }).send(new GetPackageCommand({ packageName: 'shared-key' }))).description, 'through A');

      // A data dir holding another pair (an earlier version's) takes the database's, which wins.
      await mkdir(dirC, { recursive: true });
      await writeFile(join(dirC, 'credentials.json'), JSON.stringify({ accessKeyId: 'AKIAOLDERPAIR0000001', secretAccessKey: 'an-older-secret-000000000000000000000000' }), { mode: 0o600 });
      const c = serve(['--port', '0', '--data-dir', dirC, ...db]);
      const urlC = await c.url();
      assert.equal((await iot(urlC, { accessKeyId: key, secretAccessKey: secret }).send(new GetPackageCommand({ packageName: 'shared-key' }))).packageName, 'shared-key');
      await expectAwsError(iot(urlC, { accessKeyId: 'AKIAOLDERPAIR0000001', secretAccessKey: 'an-older-secret-000000000000000000000000' }).send(new ListPackagesCommand({})), 'UnrecognizedClientException');
      assert.deepEqual(JSON.parse(await readFile(join(dirC, 'credentials.json'), 'utf8')), { accessKeyId: key, secretAccessKey: secret });
      assert.doesNotMatch(c.stdout, /Generated credentials/);
      for (const p of [a, b, c]) assert.equal((await p.terminate()).code, 0, p.stderr);
    });

    // The embedded object store's files are one data dir's: a shared database takes instances on that data dir only.
    if (backend.name === 'postgres') it('with PostgreSQL refuses a second instance on another data dir with the embedded object store, and names --s3-endpoint', async () => {
      const db = await database();
      const [owner, other] = ['store-owner', 'store-other'].map((d) => join(root, d));
      const first = serve(['--port', '0', '--data-dir', owner, ...db]);
      await first.url();
      // A second process on the owner's data dir shares its files: it starts.
      const sibling = serve(['--port', '0', '--data-dir', owner, ...db]);
      await sibling.url();
      const refused = serve(['--port', '0', '--data-dir', other, ...db]);
      const { code } = await refused.exited;
      assert.equal(code, 1, refused.stdout);
      assert.match(refused.stderr, /^fleetjobs: cannot start: this PostgreSQL database's objects are in the embedded object store of another data dir /);
      assert.ok(refused.stderr.includes(`another data dir (${owner} on `), refused.stderr);
      assert.match(refused.stderr, /give every instance the same S3 service with --s3-endpoint \(FLEETJOBS_S3_ENDPOINT; MinIO or any S3\)/);
      assert.equal(refused.stderr.split('\n').filter(Boolean).length, 1, `one line, no stack: ${refused.stderr}`);
      assert.doesNotMatch(refused.stdout, /listening/);
      // The first instances were not disturbed, and the owner restarts after they stop.
      for (const p of [first, sibling]) assert.equal((await p.terminate()).code, 0, p.stderr);
      const restarted = serve(['--port', '0', '--data-dir', owner, ...db]);
      await restarted.url();
      assert.equal((await restarted.terminate()).code, 0, restarted.stderr);
    });

    it('takes its settings from FLEETJOBS_* environment variables', async () => {
      const dataDir = join(root, 'from-env');
      const databaseArgs = await database();
      const credentials = { accessKeyId: 'AKIAFROMENVIRONMENT1', secretAccessKey: 'secret-from-the-environment-0000000000000' };
      const env: Record<string, string> = {
        FLEETJOBS_PORT: '0',
        FLEETJOBS_DATA_DIR: dataDir,
        FLEETJOBS_REGION: 'eu-west-1',
        FLEETJOBS_ACCOUNT_ID: '210987654321',
        FLEETJOBS_ACCESS_KEY_ID: credentials.accessKeyId,
        FLEETJOBS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        FLEETJOBS_LOG_LEVEL: 'warn',
      };
      if (databaseArgs.length) env.FLEETJOBS_DATABASE_URL = databaseArgs[1];
      const p = serve([], env);
      const url = await p.url();
      const m = LISTENING.exec(p.lines[0])!;
      assert.equal(m[2], 'eu-west-1');
      assert.equal(m[3], '210987654321');
      const created = await iot(url, credentials, 'eu-west-1').send(new CreatePackageCommand({ packageName: 'proc-env' }));
      assert.equal(created.packageArn, 'arn:aws:iot:eu-west-1:210987654321:package/proc-env');
      const stop = await p.terminate();
      assert.equal(stop.code, 0, p.stderr);
      assert.doesNotMatch(p.stdout, /AWS_SECRET_ACCESS_KEY/, 'configured keys are never printed');
      await assert.rejects(stat(join(dataDir, 'credentials.json')), 'no key file when keys are configured');
    });

    it('warns loudly with --no-auth and then accepts unsigned requests', async () => {
      // The limit flags are known options (an unknown one fails the start; their values are unit-tested).
      const databaseArgs = await database();
      const limits = ['--sbom-max-queued-validations', '50', '--sbom-max-entries', '10', '--shadow-max-depth', '6', '--shadow-tombstone-seconds', '3600'];
      const p = serve(['--port', '0', '--data-dir', join(root, 'no-auth'), '--no-auth', ...limits, ...databaseArgs]);
      const url = await p.url();
      const warning = await p.waitForLine((l) => /WARNING/.test(l));
      assert.match(warning, /authentication is OFF/);
      const created = await sendRaw(url, { method: 'PUT', path: '/packages/proc-open', body: '{}' });
      assert.equal(created.status, 200, created.text);
      assert.equal(created.json?.packageName, 'proc-open');
      const stop = await p.terminate();
      assert.equal(stop.code, 0, p.stderr);
      assert.doesNotMatch(p.stdout, /AWS_SECRET_ACCESS_KEY/);
    });

    // Settings are refused before any storage is opened, so once is enough (and each start costs seconds).
    if (backend.name === 'sqlite') {
      it('refuses bad settings with a message and a non-zero exit', async () => {
        const taken = createServer();
        await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
        const takenPort = String((taken.address() as AddressInfo).port);
        const cases: [string[], Record<string, string>, RegExp][] = [
          [['--port', 'abc'], {}, /^fleetjobs: invalid port: abc$/m],
          [['--region', 'Mars'], {}, /invalid region: Mars/],
          [[], { FLEETJOBS_PORT: '-1' }, /invalid port: -1/],
          [['--no-such-flag'], {}, /unknown option '--no-such-flag'/],
          [['--log-level', 'loud'], {}, /^fleetjobs: invalid log level: loud/m],
          [['--sbom-max-queued-validations', '0'], {}, /^fleetjobs: invalid --sbom-max-queued-validations \(FLEETJOBS_SBOM_MAX_QUEUED_VALIDATIONS\): 0 \(a positive whole number expected\)$/m],
          [[], { FLEETJOBS_SHADOW_MAX_DEPTH: 'deep' }, /^fleetjobs: invalid --shadow-max-depth \(FLEETJOBS_SHADOW_MAX_DEPTH\): deep/m],
          [['--port', '0'], { FLEETJOBS_ACCESS_KEY_ID: 'AKIAONLYHALF' }, /^fleetjobs: set both FLEETJOBS_ACCESS_KEY_ID and FLEETJOBS_SECRET_ACCESS_KEY, or neither$/m],
          // An operational failure is one line, not a stack trace.
          [['--port', takenPort], {}, /^fleetjobs: cannot start: port \d+ on 127\.0\.0\.1 is in use: pick another with --port \(FLEETJOBS_PORT\), or --port 0 for any free one\n$/],
          [['--port', '0', '--mqtt-port', takenPort], {}, /^fleetjobs: cannot start: the MQTT port \d+ on 127\.0\.0\.1 is taken: pick another with --mqtt-port \(0 for any free port\), use a broker that runs there with --mqtt-url mqtt:\/\/127\.0\.0\.1:\d+, or turn the MQTT door off with --no-mqtt\n$/],
          [['--mqtt-port', 'x'], {}, /^fleetjobs: invalid MQTT port: x$/m],
        ];
        try {
          await Promise.all(cases.map(async ([args, env, message], i) => {
            const dataDir = join(root, `refused-${i}`);
            const p = serve([...args, '--data-dir', dataDir], env);
            const { code } = await p.exited;
            assert.notEqual(code, 0, `${args.join(' ')} should fail; stdout: ${p.stdout}`);
            assert.match(p.stderr, message);
            assert.doesNotMatch(p.stdout, /listening/);
            // Settings are checked before anything is written.
            if (!/cannot start/.test(p.stderr)) await assert.rejects(stat(dataDir), `a refused start (${args.join(' ')}) creates no data dir`);
          }));
        } finally {
          taken.close();
        }
      });
    }
  });
}
