import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The newest modification time of any file under `dir` (0 when it does not exist). */
function newestUnder(dir: string): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let command: string[] | undefined;
/**
 * How a test starts the `fleetjobs` command: the compiled `dist/cli/main.js` when it is newer than
 * every source file (as after `npm ci`, whose prepare step builds it), else the sources through
 * tsx. A process through tsx starts in ~3 s of CPU on the 2-core machine against ~1.5 s compiled,
 * and the suite starts a few hundred; a source edited since the build is always what runs.
 */
export function fleetjobsCommand(): string[] {
  if (!command) {
    const built = (() => {
      try {
        return statSync(join(REPO, 'dist', 'cli', 'main.js')).mtimeMs;
      } catch {
        return 0;
      }
    })();
    const fresh = built > 0 && built >= newestUnder(join(REPO, 'src'));
    command = fresh ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  }
  return command;
}
const STARTUP_MS = 60_000;
/** The first line: HTTP URL, then region, account and storage; the MQTT URL (when the door is on) is `mqttUrlOf`'s. */
export const LISTENING = /^fleetjobs listening on (https?:\/\/[^\s]+)(?: and mqtt:\/\/[^\s]+(?: and mqtts:\/\/[^\s]+)?| \(devices through the MQTT broker at mqtts?:\/\/[^\s]+\))? \(region ([a-z0-9-]+), account (\d{12}), storage (.+)\)$/;
export const mqttUrlOf = (line: string) => /^fleetjobs listening on https?:\/\/[^\s]+ and (mqtt:\/\/[^\s]+) /.exec(line)?.[1];
/** The MQTT TLS listener's URL in the first line, with TLS on. */
export const mqttTlsUrlOf = (line: string) => / and (mqtts:\/\/[^\s]+) \(/.exec(line)?.[1];

/** A `fleetjobs serve` child process, its output collected line by line. */
export class ServeProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [...fleetjobsCommand(), ...args], {
      cwd: REPO,
      // Nothing from the developer's environment: no FLEETJOBS_* settings leak in.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get lines(): string[] {
    return this.stdout.split('\n').filter((l) => l.length > 0);
  }

  /** Waits until a stdout line satisfies `match`, the process exits, or the time is up. */
  async waitForLine(match: (line: string) => boolean, timeoutMs = STARTUP_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const line = this.lines.find(match);
      if (line !== undefined) return line;
      if (exited) throw new Error(`fleetjobs exited before the expected line.\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no expected line within ${timeoutMs} ms.\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The URL from the first stdout line, which must be the listening banner. */
  async url(): Promise<string> {
    await this.waitForLine(() => true);
    const m = LISTENING.exec(this.lines[0]);
    assert.ok(m, `the first stdout line names the bound URL, got: ${this.lines[0]}`);
    return m[1];
  }

  /** SIGTERM, then the exit status and how long it took. */
  async terminate(): Promise<{ code: number | null; ms: number }> {
    const start = Date.now();
    this.child.kill('SIGTERM');
    const { code } = await this.exited;
    return { code, ms: Date.now() - start };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

