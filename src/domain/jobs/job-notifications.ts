/**
 * Port for the device notifications of jobs.md §10.3. The domain decides *when* `notify`
 * (ListNotification: the thing's pending set changed) and `notify-next` (the front of the pending
 * list changed) fire, and hands intents to this port only after the change has committed. The
 * MQTT door builds and publishes the payloads from the current state when it receives them; until
 * it exists, the no-op notifier drops them.
 */
export type JobNotification =
  /** One thing; `notify` and/or `notifyNext` as computed from the change, in the execution's namespace ('' for none). */
  | { kind: 'thing'; thingName: string; notify: boolean; notifyNext: boolean; namespaceId?: string }
  /**
   * Executions of `jobId` were created set-based (CreateJob, AssociateTargetsWithJob): every
   * thing with a QUEUED execution of it (numbered `fromQueueSeq` and above) gets notify; those for
   * which it is now the front of the list also get notify-next. Carried as one intent so a
   * 100,000-thing fan-out does not build 100,000 objects.
   */
  | { kind: 'fanOut'; jobId: string; fromQueueSeq: number };

export interface JobNotifier {
  publish(notifications: JobNotification[]): void;
  /**
   * False when per-thing intents would be dropped anyway: then nobody computes them (no front
   * look-ups on the device path, no reading every pending thing of a cancelled or deleted job).
   * Absent means true.
   */
  readonly wantsThingNotifications?: boolean;
}

export const noopJobNotifier: JobNotifier = { publish: () => undefined, wantsThingNotifications: false };

/**
 * §10.3 for one execution change: notify when it entered or left the pending set; notify-next when
 * the front of the thing's pending list is a different execution afterwards.
 */
export function notificationFor(
  thingName: string,
  change: { pendingBefore: boolean; pendingAfter: boolean; namespaceId?: string } & ({ frontBefore?: string; frontAfter?: string } | { frontChanged: boolean }),
): JobNotification | undefined {
  const notify = change.pendingBefore !== change.pendingAfter;
  const notifyNext = 'frontChanged' in change ? change.frontChanged : change.frontBefore !== change.frontAfter;
  if (!notify && !notifyNext) return undefined;
  return { kind: 'thing', thingName, notify, notifyNext, ...(change.namespaceId ? { namespaceId: change.namespaceId } : {}) };
}
