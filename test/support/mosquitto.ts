import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

/**
 * The real Mosquitto, for external-broker mode: the project's shared one (127.0.0.1:1883; `.ci/run`
 * starts it where it is down) tells whether Mosquitto is here, and each test file that puts a
 * fleetjobs backend on a broker starts a private one. A backend answers every thing's requests,
 * so two test files' backends on one broker would both answer a device (test files run at once).
 */
export const MOSQUITTO_URL = process.env.FLEETJOBS_TEST_MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883';

let probe: Promise<string | undefined> | undefined;

/** Why Mosquitto tests are skipped here, if they are. */
export function mosquittoSkip(): Promise<string | undefined> {
  probe ??= mqtt
    .connectAsync(MOSQUITTO_URL, { clientId: `fleetjobs-probe-${process.pid}`, connectTimeout: 2000, reconnectPeriod: 0 }, false)
    .then(async (c) => {
      await c.endAsync();
      if (spawnSync('mosquitto', ['-h']).error) return 'the mosquitto binary is not installed (apt install mosquitto)';
      return undefined;
    })
    .catch((err: Error) => `Mosquitto not reachable at ${MOSQUITTO_URL} (${err.message}): start it (mosquitto -d -c /etc/mosquitto/mosquitto.conf) or set FLEETJOBS_TEST_MOSQUITTO_URL`);
  return probe;
}

/** A Mosquitto of a test's own, on a free loopback port, with the ACL and users it is given. */
export class PrivateMosquitto {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {}

  /** Without an ACL and users it is open: anonymous clients may use any topic. */
  static async start(o: { acl?: string; users?: Record<string, string>; allowAnonymous?: boolean } = {}): Promise<PrivateMosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'fleetjobs-mosquitto-'));
    // Mosquitto started as root drops to the mosquitto user, which must read these files.
    await chmod(dir, 0o755);
    const port = await freePort();
    const conf = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr'];
    if (o.acl === undefined && o.users === undefined) {
      conf.push('allow_anonymous true');
    } else {
      const passwords = join(dir, 'passwd');
      await writeFile(passwords, '', { mode: 0o644 });
      for (const [user, password] of Object.entries(o.users ?? {})) {
        const r = spawnSync('mosquitto_passwd', ['-b', passwords, user, password]);
        if (r.status !== 0) throw new Error(`mosquitto_passwd: ${r.stderr.toString()}`);
      }
      await chmod(passwords, 0o644);
      await writeFile(join(dir, 'acl'), o.acl ?? '', { mode: 0o644 });
      conf.push(`allow_anonymous ${o.allowAnonymous ? 'true' : 'false'}`, `password_file ${passwords}`, `acl_file ${join(dir, 'acl')}`);
    }
    await writeFile(join(dir, 'mosquitto.conf'), conf.join('\n') + '\n', { mode: 0o644 });
    const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const url = `mqtt://127.0.0.1:${port}`;
    // Ready when it accepts a TCP connection (it exits at once on a bad config).
    for (let attempt = 0; ; attempt++) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      if (await accepts(port)) break;
      if (attempt > 100) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return new PrivateMosquitto(child, dir, url);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
