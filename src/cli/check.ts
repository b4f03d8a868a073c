import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { systemClock } from '../clock.js';
import { ConfigError, resolveConfig } from '../config/config.js';
import { Arns } from '../domain/arns.js';
import { DEFAULT_LIMITS, type DomainContext } from '../domain/context.js';
import { JobConsistency, type JobFinding } from '../domain/jobs/job-consistency.js';
import { createJobDomain } from '../domain/jobs/job-domain.js';
import { noopJobNotifier } from '../domain/jobs/job-notifications.js';
import { openDatabase } from '../store/db.js';
import { migrateToLatest } from '../store/migrations/index.js';
import { Store } from '../store/store.js';

function describe(f: JobFinding): string {
  const parts = f.mismatches.map((m) => `${m.member} is ${m.recorded} but ${m.actual} execution${m.actual === 1 ? '' : 's'} say${m.actual === 1 ? 's' : ''} so`);
  if (f.shouldHaveCompleted) parts.push('a SNAPSHOT job IN_PROGRESS with no pending execution (it should be COMPLETED)');
  return `job ${f.jobId} (${f.status}): ${parts.join('; ')}`;
}

/**
 * `fleetjobs check [--repair]`: compares every job's counters with its executions, with the serve
 * command's storage flags. Exit 0 when all agree, 1 when it found any (repaired or not), 2 when it
 * could not run.
 */
export function checkCommand(): Command {
  return new Command('check')
    .description("report jobs whose counters disagree with their executions, and SNAPSHOT jobs that should have completed; --repair recomputes them")
    .addOption(new Option('--data-dir <dir>', 'where the embedded database lives (FLEETJOBS_DATA_DIR)'))
    .addOption(new Option('--database-url <url>', 'postgres://... when the server runs on PostgreSQL (FLEETJOBS_DATABASE_URL)'))
    .option('--repair', 'recompute the counters of each job found, one transaction per job')
    .action(async (flags: { dataDir?: string; databaseUrl?: string; repair?: boolean }) => {
      let config;
      try {
        config = resolveConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`fleetjobs check: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      if (!config.databaseUrl && !existsSync(join(config.dataDir, 'fleetjobs.db'))) {
        process.stderr.write(`fleetjobs check: no database at ${join(config.dataDir, 'fleetjobs.db')} (give --data-dir or --database-url)\n`);
        process.exit(2);
      }
      const opened = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
      try {
        await migrateToLatest(opened.db, opened.dialect);
        const store = new Store(opened.db, opened.dialect);
        const ctx: DomainContext = { store, clock: systemClock, arns: new Arns(config.region, config.accountId), limits: DEFAULT_LIMITS };
        const { lifecycle } = createJobDomain(ctx, { notifier: noopJobNotifier, packageConfiguration: { current: async () => ({ enabled: false }) } });
        const consistency = new JobConsistency(store, (tx, job) => lifecycle.completeIfDone(tx, job));
        let found = 0;
        let repaired = 0;
        for await (const finding of consistency.findings()) {
          found++;
          process.stdout.write(`${describe(finding)}\n`);
          if (flags.repair && (await consistency.repair(finding.jobId))) {
            repaired++;
            process.stdout.write(`  repaired job ${finding.jobId}\n`);
          }
        }
        if (found === 0) process.stdout.write(`fleetjobs check: all ${consistency.checked} jobs agree with their executions\n`);
        else if (flags.repair) process.stdout.write(`fleetjobs check: ${found} of ${consistency.checked} jobs disagreed; repaired ${repaired}\n`);
        else process.stdout.write(`fleetjobs check: ${found} of ${consistency.checked} jobs disagree with their executions; run with --repair to recompute them\n`);
        process.exitCode = found === 0 ? 0 : 1;
      } finally {
        await opened.db.destroy();
      }
    });
}
