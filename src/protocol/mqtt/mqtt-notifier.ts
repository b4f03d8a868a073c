import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { JobNotification, JobNotifier } from '../../domain/jobs/job-notifications.js';
import type { JobsDataService } from '../../domain/jobs/jobs-data-service.js';
import { devicePlaneText } from '../http/json.js';
import { withObjectDocument } from './jobs-mqtt.js';
import { jobsNotifyNextTopic, jobsNotifyTopic } from './topics.js';

/**
 * notify and notify-next over MQTT (jobs.md §10.2–10.3). The domain decides when they fire and hands
 * the intents over after commit; this builds each payload from the state as it is then, and
 * publishes it. Intents for one thing are merged while they wait (a payload says the current state,
 * so two in a row say the same), things are worked on in batches (what waits is read in one go, so
 * a burst costs a few reads, not one per thing), and a thing whose request is being answered is
 * held until its reply has gone (update/accepted, then notify, then notify-next).
 */
interface Pending {
  notify: boolean;
  notifyNext: boolean;
  /** notify-next only if the front is an execution of this job (a release reached the thing). */
  nextIfJob?: string;
}

/** Batches (and release pages) worked on at once. */
const CONCURRENCY = 4;
/** Things whose notifications are read and sent together. */
const BATCH = 250;
const RELEASE_PAGE = 1000;

export class MqttJobNotifier implements JobNotifier {
  readonly wantsThingNotifications = true;
  private readonly pending = new Map<string, Pending>();
  private readonly held = new Set<string>();
  private readonly fanOuts: { jobId: string; fromQueueSeq: number }[] = [];
  private active = 0;
  private pumpDue = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    /** The data plane's reads; a function, as the notifier is wired before the jobs services exist. */
    private readonly jobsData: () => JobsDataService,
    private readonly clock: Clock,
    private readonly log: Logger,
    private send: (topic: string, payload: string) => void = () => undefined,
    /** Whether anyone can hear `thingName` now (the embedded broker knows its clients); absent: always. */
    private listening: (thingName: string) => boolean = () => true,
  ) {}

  /** The door's transport, once it exists (the notifier is wired before the broker starts). */
  attach(send: (topic: string, payload: string) => void, listening?: (thingName: string) => boolean): void {
    this.send = send;
    if (listening) this.listening = listening;
  }

  publish(notifications: JobNotification[]): void {
    for (const n of notifications) {
      if (n.kind === 'fanOut') this.fanOuts.push({ jobId: n.jobId, fromQueueSeq: n.fromQueueSeq });
      else this.add(key(n.thingName, n.namespaceId ?? ''), { notify: n.notify, notifyNext: n.notifyNext });
    }
    this.pumpSoon();
  }

  /** While a device's request is answered, its notifications wait (they follow the reply). */
  hold(thingName: string): void {
    this.held.add(thingName);
  }

  release(thingName: string): void {
    this.held.delete(thingName);
    this.pumpSoon();
  }

  /** Resolves once nothing waits to be sent (tests, shutdown). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.fanOuts.length === 0 && this.active === 0 && !this.pumpDue) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private add(k: string, p: Pending): void {
    const was = this.pending.get(k);
    if (!was) {
      this.pending.set(k, p);
      return;
    }
    was.notify ||= p.notify;
    if (p.notifyNext) {
      was.notifyNext = true;
      was.nextIfJob = undefined;
    } else if (p.nextIfJob && !was.notifyNext) was.nextIfJob = p.nextIfJob;
  }

  /**
   * At the end of this turn: what the turn's commits and replies set free goes out in one batch.
   * Pumped at each one, a burst of device reports went out one thing per read.
   */
  private pumpSoon(): void {
    if (this.pumpDue) return;
    this.pumpDue = true;
    setImmediate(() => {
      this.pumpDue = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < CONCURRENCY) {
      const fan = this.fanOuts.shift();
      if (fan) {
        this.run(() => this.expand(fan.jobId, fan.fromQueueSeq));
        continue;
      }
      const batch = this.takeBatch();
      if (batch.length === 0) break;
      this.run(() => this.deliver(batch));
    }
    if (this.active === 0 && this.pending.size === 0 && this.fanOuts.length === 0 && !this.pumpDue) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Up to BATCH waiting things that are not held, taken out of `pending`. */
  private takeBatch(): { thingName: string; namespaceId: string; p: Pending }[] {
    const batch: { thingName: string; namespaceId: string; p: Pending }[] = [];
    for (const [k, p] of this.pending) {
      if (batch.length >= BATCH) break;
      const thingName = thingOf(k);
      if (this.held.has(thingName)) continue;
      this.pending.delete(k);
      batch.push({ thingName, namespaceId: namespaceOf(k), p });
    }
    return batch;
  }

  private run(work: () => Promise<void>): void {
    this.active++;
    work()
      .catch((err: unknown) => this.log.warn({ err }, 'a job notification could not be sent'))
      .finally(() => {
        this.active--;
        this.pump();
      });
  }

  /** A release reached many things: each is told, notify-next where the job is now its front. */
  private async expand(jobId: string, fromQueueSeq: number): Promise<void> {
    const namespaceId = (await this.jobsData().namespaceOf(jobId)) ?? '';
    let after: string | undefined;
    for (;;) {
      const things = await this.jobsData().releasedThings(jobId, fromQueueSeq, after, RELEASE_PAGE);
      for (const t of things) if (this.listening(t)) this.add(key(t, namespaceId), { notify: true, notifyNext: false, nextIfJob: jobId });
      if (things.length < RELEASE_PAGE) return;
      after = things[things.length - 1];
    }
  }

  private async deliver(batch: { thingName: string; namespaceId: string; p: Pending }[]): Promise<void> {
    const byNamespace = new Map<string, { thingName: string; notify: boolean; next: boolean; nextIfJob?: string }[]>();
    for (const { thingName, namespaceId, p } of batch) {
      if (!this.listening(thingName)) continue;
      // notify has no namespaced topic; notify-next has.
      const notify = p.notify && namespaceId === '';
      const next = p.notifyNext || p.nextIfJob !== undefined;
      if (!notify && !next) continue;
      const list = byNamespace.get(namespaceId) ?? [];
      list.push({ thingName, notify, next, nextIfJob: p.notifyNext ? undefined : p.nextIfJob });
      byNamespace.set(namespaceId, list);
    }
    for (const [namespaceId, wanted] of byNamespace) {
      const contents = await this.jobsData().notificationContents(namespaceId, wanted);
      const timestamp = Math.floor(this.clock.now() / 1000);
      for (const w of wanted) {
        const content = contents.get(w.thingName);
        if (!content || !this.listening(w.thingName)) continue;
        if (w.notify) {
          // Empty status keys are left out; `jobs: {}` when nothing is pending.
          const jobs = { ...(content.inProgress.length ? { IN_PROGRESS: content.inProgress } : {}), ...(content.queued.length ? { QUEUED: content.queued } : {}) };
          this.send(jobsNotifyTopic(w.thingName), devicePlaneText({ timestamp, jobs }));
        }
        if (!w.next || (w.nextIfJob && content.next?.jobId !== w.nextIfJob)) continue;
        // notify-next carries no thingName, and is bare when the list is empty.
        const execution = content.next ? withObjectDocument((({ thingName: _t, ...rest }) => rest)(content.next)) : undefined;
        this.send(jobsNotifyNextTopic(w.thingName, namespaceId || undefined), devicePlaneText({ timestamp, ...(execution ? { execution } : {}) }));
      }
    }
  }
}

const key = (thingName: string, namespaceId: string) => `${thingName}\u0000${namespaceId}`;
const thingOf = (k: string) => k.slice(0, k.indexOf('\u0000'));
const namespaceOf = (k: string) => k.slice(k.indexOf('\u0000') + 1);
