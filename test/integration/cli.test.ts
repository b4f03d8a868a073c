import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mqttTlsUrlOf, mqttUrlOf, ServeProcess } from '../support/serve-process.js';

/** The `fleetjobs` command line as a new user meets it: version, help, a typo, a port in use. */
describe('the fleetjobs command line', () => {
  const procs: ServeProcess[] = [];
  const dirs: string[] = [];
  const run = (args: string[]) => {
    const p = new ServeProcess(args);
    procs.push(p);
    return p;
  };
  after(async () => {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints its version', async () => {
    const p = run(['--version']);
    assert.equal((await p.exited).code, 0);
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(p.stdout.trim(), version);
  });

  it('refuses an unknown command, naming the commands', async () => {
    const p = run(['srve']);
    assert.equal((await p.exited).code, 2);
    assert.match(p.stderr, /unknown command 'srve'; the commands are serve, check, forecast, mosquitto-acl, simulate/);
  });

  it('shows every serve flag with its FLEETJOBS_ variable and default', async () => {
    const p = run(['serve', '--help']);
    assert.equal((await p.exited).code, 0);
    // Commander wraps long descriptions: an option's text runs until the next option line.
    const options = p.stdout.split(/\n(?= {2}-)/).filter((o) => /^ {2}--/.test(o) && !o.includes('--help'));
    assert.ok(options.length >= 30, p.stdout);
    for (const o of options) {
      const text = o.replace(/\s+/g, ' ');
      assert.match(text, /\(FLEETJOBS_[A-Z0-9_]+(=1)?[;)]/, `names its variable: ${text}`);
      if (!/secret-access-key|mqtt-username|mqtt-password/.test(text)) assert.match(text, /default [^)]+\)/, `names its default: ${text}`);
    }
    assert.match(p.stdout.replace(/\s+/g, ' '), /--port <port> port to bind, 0 for any free port \(FLEETJOBS_PORT; default 8080\)/);
  });

  it('serve --tls names HTTPS and the MQTT TLS listener in its first line and prints the CA devices trust; --mqtt-tls-port needs TLS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetjobs-tls-'));
    dirs.push(dir);
    const p = run(['serve', '--tls', '--port', '0', '--mqtt-port', '0', '--mqtt-tls-port', '0', '--data-dir', dir]);
    assert.match(await p.url(), /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(mqttUrlOf(p.lines[0]) ?? '', /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    assert.match(mqttTlsUrlOf(p.lines[0]) ?? '', /^mqtts:\/\/127\.0\.0\.1:\d+$/);
    await p.waitForLine((l) => l === `TLS: devices and SDKs trust the CA in ${join(dir, 'tls', 'ca.pem')}`);
    assert.doesNotMatch(p.stdout + p.stderr, /PRIVATE KEY/);
    assert.equal((await p.terminate()).code, 0);
    const refused = run(['serve', '--port', '0', '--mqtt-tls-port', '0', '--data-dir', dir]);
    assert.equal((await refused.exited).code, 2, 'a configuration error');
    assert.match(refused.stderr, /--mqtt-tls-port \(FLEETJOBS_MQTT_TLS_PORT\) needs TLS/);
  });

  it('refuses a second server on the same SQLite data dir, naming the holder, and takes over a killed one\'s lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetjobs-lock-'));
    dirs.push(dir);
    const args = ['serve', '--port', '0', '--mqtt-port', '0', '--data-dir', dir];
    const first = run(args);
    await first.url();
    const second = run(args);
    assert.equal((await second.exited).code, 1);
    assert.match(second.stderr, new RegExp(`the data dir .* is in use by process ${first.child.pid}: stop that fleetjobs, or give this one another --data-dir`));
    first.kill(); // SIGKILL: its lock stays behind
    await first.exited;
    const third = run(args);
    assert.match(await third.url(), /^http:\/\/127\.0\.0\.1:\d+$/, 'a dead holder does not block a restart');
    assert.equal((await third.terminate()).code, 0);
    const fourth = run(args);
    await fourth.url();
    assert.equal((await fourth.terminate()).code, 0, 'a clean stop leaves the data dir free');
  });

  it('says which flag picks another port when the port is in use', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetjobs-cli-'));
    dirs.push(dir);
    const first = run(['serve', '--port', '0', '--mqtt-port', '0', '--data-dir', join(dir, 'a')]);
    const port = new URL(await first.url()).port;
    const second = run(['serve', '--port', port, '--mqtt-port', '0', '--data-dir', join(dir, 'b')]);
    assert.equal((await second.exited).code, 1);
    assert.match(second.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: pick another with --port \\(FLEETJOBS_PORT\\), or --port 0 for any free one`));
  });
});
