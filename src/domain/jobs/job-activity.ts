/**
 * What the job domain did, counted for the operator's metrics (`/metrics`): told after the commit
 * that did it, never for a change that rolled back.
 */
export interface JobActivity {
  released(executions: number): void;
  timedOut(executions: number): void;
  aborted(): void;
}

export const noJobActivity: JobActivity = { released: () => undefined, timedOut: () => undefined, aborted: () => undefined };
