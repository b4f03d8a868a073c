import { spawn, spawnSync } from 'node:child_process';
import { REGION, TEST_CREDENTIALS } from './server.js';

/**
 * The real `aws` CLI against a test server, with nothing from the developer's own AWS setup:
 * credentials and region from the environment, config files pointed at nothing, one attempt.
 */

let availability: string | undefined | null = null;

/** Undefined when `aws` runs here; otherwise why suites that need it are skipped. */
export function awsCliSkipReason(): string | undefined {
  if (availability === null) {
    const probe = spawnSync('aws', ['--version'], { encoding: 'utf8', timeout: 30_000 });
    availability = probe.error || probe.status !== 0
      ? `the AWS CLI is not available on PATH (${probe.error?.message ?? probe.stderr.trim()}); install it (pip install awscli) to run the CLI tests`
      : undefined;
  }
  return availability;
}

export interface AwsCliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (`--output json`), when there is any. */
  json?: Record<string, unknown>;
}

export function cliEnv(credentials = TEST_CREDENTIALS): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_PAGER: '',
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Runs `aws <args> --endpoint-url <url> --output json`. */
export function runAwsCli(endpointUrl: string, args: string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<AwsCliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('aws', [...args, '--endpoint-url', endpointUrl, '--output', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      if (stdout.trim()) {
        try {
          json = JSON.parse(stdout) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}
