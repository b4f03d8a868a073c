import type { DomainContext } from '../context.js';
import { FieldErrors } from '../validation.js';
import type { JobExecutionsRolloutConfig } from './job-config-rules.js';
import { jobSchedule, schedulePhase, type JobSchedule } from './job-lifecycle.js';
import { checkJobId, jobNotFound } from './job-rules.js';
import { parseJson } from './job-views.js';
import { planRelease, recordRelease, RELEASE_WINDOW_MS, rolloutRate, type ReleaseLog, type ReleaseWindow } from './rollout-rules.js';
import type { SchedulingConfig } from './schedule-rules.js';

/**
 * The rollout forecast (beyond AWS, `GET /_fleetjobs/jobs/{jobId}/forecast`): when each tenth of a
 * job's targets is expected to be released. The past comes from the release log; the future is
 * the engine's own rules (rollout-rules.ts, the schedule's phases) played forward from now. A
 * ramp on succeeded things is assumed to gain no further successes, so the forecast errs late.
 */
export interface ForecastInput {
  now: number;
  /** The job is still rolling out (IN_PROGRESS or SCHEDULED, and not stopped). */
  active: boolean;
  total: number;
  cursor: number;
  notified: number;
  succeeded: number;
  window: ReleaseWindow;
  log: ReleaseLog;
  config?: JobExecutionsRolloutConfig;
  schedule: JobSchedule;
  /** When the engine will next look at the job. */
  dueAt?: number;
  /** When the job was created: the release time of what was released before the log existed. */
  createdAt: number;
}

export interface Forecast {
  releases: { fraction: number; expectedAt: number | null }[];
  expectedRolloutEnd: number | null;
}

/** Ticks looked at before giving up on a rollout that would not end (a window that never opens). */
const MAX_TICKS = 500_000;

export function forecastReleases(f: ForecastInput): Forecast {
  const indices = Array.from({ length: 10 }, (_, k) => Math.ceil(((k + 1) * f.total) / 10));
  const at = new Map<number, number | null>();
  // Released already: the first logged tick whose cursor reached the index.
  for (const i of indices) {
    if (i > f.cursor) continue;
    const entry = f.log.find(([, cursor]) => cursor >= i);
    at.set(i, entry ? entry[0] : f.createdAt);
  }
  if (f.active && f.cursor < f.total) {
    let t = Math.max(f.now, f.dueAt ?? f.now);
    let cursor = f.cursor;
    let notified = f.notified;
    let window = f.window;
    for (let tick = 0; tick < MAX_TICKS && cursor < f.total; tick++) {
      const phase = schedulePhase(f.schedule, t);
      if (phase.ended) break;
      if (phase.status === 'SCHEDULED') {
        if (phase.nextEdgeAt === undefined) break;
        t = phase.nextEdgeAt;
        continue;
      }
      const plan = planRelease(window, t, rolloutRate(f.config, { notified, succeeded: f.succeeded }), f.total - cursor);
      if (plan.count > 0) {
        cursor += plan.count;
        notified += plan.count;
        window = recordRelease(window, t, plan.count);
        for (const i of indices) if (i <= cursor && !at.has(i)) at.set(i, t);
      }
      let next = plan.nextAt ?? t + RELEASE_WINDOW_MS;
      if (phase.nextEdgeAt !== undefined && phase.nextEdgeAt < next) next = phase.nextEdgeAt;
      t = Math.max(next, t + 1);
    }
  }
  const releases = indices.map((i, k) => ({ fraction: (k + 1) / 10, expectedAt: f.total === 0 ? null : (at.get(i) ?? null) }));
  return { releases, expectedRolloutEnd: releases[9].expectedAt };
}

export class RolloutForecastService {
  constructor(private readonly ctx: DomainContext) {}

  async forecast(input: { jobId?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    errors.throwIfAny();
    const job = await this.ctx.store.jobs.get(jobId);
    if (!job) throw jobNotFound(jobId);
    const rollout = await this.ctx.store.jobRollouts.get(jobId);
    const now = this.ctx.clock.now();
    const result = forecastReleases({
      now,
      active: (job.status === 'IN_PROGRESS' || job.status === 'SCHEDULED') && rollout?.stopped !== 1,
      total: Number(rollout?.total ?? 0),
      cursor: Number(rollout?.released ?? 0),
      notified: Number(rollout?.notified ?? 0),
      succeeded: Number(job.n_succeeded),
      window: parseJson<ReleaseWindow>(rollout?.release_window ?? null) ?? [],
      log: parseJson<ReleaseLog>(rollout?.release_log ?? null) ?? [],
      config: parseJson<JobExecutionsRolloutConfig>(job.rollout_config),
      schedule: jobSchedule(parseJson<SchedulingConfig>(job.scheduling_config)),
      dueAt: rollout?.due_at === null || rollout?.due_at === undefined ? undefined : Number(rollout.due_at),
      createdAt: Number(job.created_at),
    });
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      jobId,
      generatedAt: iso(now),
      releases: result.releases.map((r) => ({ fraction: r.fraction, expectedAt: iso(r.expectedAt) })),
      expectedRolloutEnd: iso(result.expectedRolloutEnd),
    };
  }
}
