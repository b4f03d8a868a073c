import type { DomainContext } from '../context.js';
import { ExecutionBulk } from './execution-bulk.js';
import { ExecutionService, type PackageConfigurationReader, type PackageShadowRecorder } from './execution-service.js';
import type { JobNotifier } from './job-notifications.js';
import { JobLifecycleService } from './job-lifecycle-service.js';
import { JobRollout } from './job-rollout.js';
import { noJobActivity, type JobActivity } from './job-activity.js';

/**
 * Told when a commit made background work due (a job to release, an abort to sweep), so the engine
 * looks now instead of at its next poll.
 */
export class WorkSignal {
  private listener: () => void = () => undefined;
  listen(fn: () => void): void {
    this.listener = fn;
  }
  notify(): void {
    this.listener();
  }
}

/** The services every door of IoT Jobs shares, wired once: one execution state machine, one job lifecycle. */
export interface JobDomain {
  workDue: WorkSignal;
  executions: ExecutionService;
  bulk: ExecutionBulk;
  lifecycle: JobLifecycleService;
  rollout: JobRollout;
}

export function createJobDomain(
  ctx: DomainContext,
  deps: { notifier: JobNotifier; packageConfiguration: PackageConfigurationReader; packageShadow?: PackageShadowRecorder; activity?: JobActivity },
): JobDomain {
  const workDue = new WorkSignal();
  const activity = deps.activity ?? noJobActivity;
  const executions = new ExecutionService(ctx, deps);
  const bulk = new ExecutionBulk(ctx, executions, activity);
  const lifecycle = new JobLifecycleService(ctx, bulk, workDue, activity);
  // A terminal transition of one execution asks the lifecycle (abort, completion) in its transaction.
  executions.setOutcomes(lifecycle);
  return { workDue, executions, bulk, lifecycle, rollout: new JobRollout(ctx, bulk, lifecycle, workDue, activity) };
}
