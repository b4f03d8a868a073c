import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServeProcess } from '../support/serve-process.js';
import { TEST_CREDENTIALS } from '../support/server.js';

/**
 * The README's pytest + boto3 example (examples/pytest/) against a real `fleetjobs serve
 * --test-mode` process: what a Python user's suite does (moto's reset, the signed clock, a seed).
 */
const python = spawnSync('python3', ['-c', 'import boto3, botocore, pytest, requests']);
const skip = python.error || python.status !== 0
  ? `python3 with boto3, pytest and requests is needed for the pytest example (pip install boto3 pytest requests): ${python.error?.message ?? python.stderr.toString().trim().split('\n').pop()}`
  : undefined;

describe('the pytest + boto3 example', { skip }, () => {
  let dataDir: string;
  let server: ServeProcess;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-pytest-'));
    server = new ServeProcess(['serve', '--test-mode', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir], {
      FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    });
  });
  after(async () => {
    server?.kill();
    await server?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('passes against a --test-mode server', async () => {
    const endpoint = await server.url();
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'examples/pytest'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /2 passed/);
  });
});
