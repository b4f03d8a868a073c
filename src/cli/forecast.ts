import { Command } from 'commander';
import { ClientError, resolveClientTarget, signedJson } from './client.js';

interface ForecastAnswer {
  jobId: string;
  generatedAt: string;
  releases: { fraction: number; expectedAt: string | null }[];
  expectedRolloutEnd: string | null;
}

/** `fleetjobs forecast JOB_ID [--endpoint URL] [--json]`: the rollout forecast as a table, or as the endpoint's JSON. */
export function forecastCommand(): Command {
  return new Command('forecast')
    .description('when each tenth of a job\'s targets is expected to be released (GET /_fleetjobs/jobs/{jobId}/forecast)')
    .argument('<jobId>', 'the job')
    .option('--endpoint <url>', 'the server (else AWS_ENDPOINT_URL, else http://127.0.0.1:8080)')
    .option('--json', 'print the endpoint\'s JSON answer as it is')
    .action(async (jobId: string, flags: { endpoint?: string; json?: boolean }) => {
      try {
        const target = resolveClientTarget(flags);
        const res = await signedJson(target, 'GET', `/_fleetjobs/jobs/${encodeURIComponent(jobId)}/forecast`);
        if (res.status !== 200) {
          const err = res.json as { __type?: string; message?: string } | undefined;
          process.stderr.write(`fleetjobs forecast: ${err?.__type ?? `HTTP ${res.status}`}: ${err?.message ?? res.text}\n`);
          process.exitCode = 1;
          return;
        }
        const f = res.json as ForecastAnswer;
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
          return;
        }
        const lines = [`Rollout forecast for job ${f.jobId} (generated ${f.generatedAt})`, '  released   expected at'];
        for (const r of f.releases) lines.push(`  ${`${Math.round(r.fraction * 100)}%`.padStart(8)}   ${r.expectedAt ?? 'never (the rollout ends or was stopped first)'}`);
        lines.push(`Expected end of the rollout: ${f.expectedRolloutEnd ?? 'never'}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (err) {
        if (!(err instanceof ClientError) && !(err instanceof TypeError)) throw err;
        process.stderr.write(`fleetjobs forecast: ${err.message}\n`);
        process.exitCode = 2;
      }
    });
}
