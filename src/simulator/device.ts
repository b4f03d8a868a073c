import { randomUUID } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../clock.js';

/**
 * One simulated device on MQTT 3.1.1, behaving as aws-iot-device-client does: its client id is
 * its thing name; when it connects it asks for its next job (start-next); it is told of new work
 * on notify-next; it runs each job it is given, reporting progress half-way, and asks for the
 * next when one ends. What it does with a job is drawn from the fleet's rates.
 */
export interface Behaviour {
  /** Of the jobs a device runs, the share it reports FAILED (after its work). */
  failRate: number;
  /** The share it rejects at once (REJECTED). */
  rejectRate: number;
  /** The share it never finishes: it stays IN_PROGRESS until the server moves it on (a timeout). */
  hangRate: number;
  /** How long a job's work takes, in ms (progress is reported half-way). */
  workMs: number;
}

export type Outcome = 'succeeded' | 'failed' | 'rejected' | 'hung';

/** What a device tells the fleet about (counters and the idle watch). */
export interface DeviceEvents {
  started(): void;
  /** A job ended here; no outcome when the server ended it first (cancelled, timed out). */
  ended(outcome?: Outcome): void;
  /** A rejected reply (a refused request): counted, and the device asks again later. */
  refused(code: string): void;
  /** Any message about jobs: the fleet is not idle. */
  activity(): void;
}

interface Running {
  jobId: string;
  executionNumber: number;
  versionNumber: number;
  outcome: Outcome;
  /** Its terminal update is sent: the job ends here when the server accepts it. */
  finishing?: boolean;
  cancelTimer?: () => void;
}

export class SimulatedDevice {
  private client?: MqttClient;
  private running?: Running;
  private asking = false;
  private closed = false;
  private readonly settleWaiters: (() => void)[] = [];
  private readonly prefix: string;

  constructor(
    readonly thingName: string,
    private readonly behaviour: Behaviour,
    private readonly events: DeviceEvents,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {
    this.prefix = `$aws/things/${thingName}/jobs`;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** `key`/`cert`/`ca` (PEM), or a `secureContext` made of them, connect it with mutual TLS to an `mqtts://` broker, as a device with its certificate. */
  async connect(brokerUrl: string, options: { username?: string; password?: string; key?: string; cert?: string; ca?: string; secureContext?: SecureContext } = {}): Promise<void> {
    const client = await mqtt.connectAsync(brokerUrl, {
      clientId: this.thingName,
      protocolVersion: 4,
      clean: true,
      keepalive: 1200,
      reconnectPeriod: 2000,
      connectTimeout: 30_000,
      ...options,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', () => undefined);
    // Replies reach subscribers on any broker (the embedded one sends them regardless).
    await client.subscribeAsync(
      [`${this.prefix}/notify-next`, `${this.prefix}/start-next/accepted`, `${this.prefix}/start-next/rejected`, `${this.prefix}/+/update/accepted`, `${this.prefix}/+/update/rejected`],
      { qos: 1 },
    );
    // After a reconnect it asks again, as it does at start.
    client.on('connect', () => this.askForNext());
    this.askForNext();
  }

  /**
   * Resolves once no terminal update of this device waits for its answer: a fleet stopping on
   * Ctrl-C lets the reports already sent be answered, so its summary matches the server's.
   */
  settled(): Promise<void> {
    if (!this.running?.finishing || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push(resolve));
  }

  private wasSettled(): void {
    for (const w of this.settleWaiters.splice(0)) w();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wasSettled();
    this.running?.cancelTimer?.();
    await this.client?.endAsync(true).catch(() => undefined);
  }

  private publish(suffix: string, body: Record<string, unknown>): void {
    if (this.closed || !this.client) return;
    this.client.publish(`${this.prefix}/${suffix}`, JSON.stringify({ ...body, clientToken: randomUUID() }), { qos: 1 }, () => undefined);
  }

  private askForNext(): void {
    if (this.running || this.asking) return;
    this.asking = true;
    this.publish('start-next', {});
  }

  private onMessage(topic: string, payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    this.events.activity();
    const rest = topic.slice(this.prefix.length + 1);
    if (rest === 'notify-next') {
      const execution = body.execution as { jobId?: string; executionNumber?: number } | undefined;
      // A hung job the server has moved on from (timed out, cancelled) is given up.
      if (this.running?.outcome === 'hung' && (execution?.jobId !== this.running.jobId || execution.executionNumber !== this.running.executionNumber)) {
        this.running = undefined;
      }
      if (execution) this.askForNext();
      return;
    }
    if (rest === 'start-next/accepted') {
      this.asking = false;
      const execution = body.execution as { jobId: string; executionNumber?: number; versionNumber?: number } | undefined;
      if (execution && !this.running) this.run(execution);
      return;
    }
    if (rest.endsWith('/rejected')) {
      this.asking = false;
      this.events.refused(String(body.code ?? 'unknown'));
      const jobId = rest.slice(0, -'/update/rejected'.length);
      // An update refused (cancelled meanwhile, say) ends that job here; the device asks for more.
      const r = this.running;
      if (rest.endsWith('/update/rejected') && r?.jobId === jobId) {
        r.cancelTimer?.();
        this.running = undefined;
        this.events.ended(r.finishing ? r.outcome : undefined);
        this.wasSettled();
        this.askForNext();
      }
      return;
    }
    if (rest.endsWith('/update/accepted')) {
      const jobId = rest.slice(0, -'/update/accepted'.length);
      const r = this.running;
      if (!r || r.jobId !== jobId || !r.finishing) return;
      // The job ends when the server has its terminal status; then the device asks for the next.
      this.running = undefined;
      this.events.ended(r.outcome);
      this.wasSettled();
      this.askForNext();
    }
  }

  private run(execution: { jobId: string; executionNumber?: number; versionNumber?: number }): void {
    const draw = this.random();
    const b = this.behaviour;
    const outcome: Outcome = draw < b.rejectRate ? 'rejected' : draw < b.rejectRate + b.hangRate ? 'hung' : this.random() < b.failRate ? 'failed' : 'succeeded';
    const r: Running = { jobId: execution.jobId, executionNumber: execution.executionNumber ?? 1, versionNumber: execution.versionNumber ?? 1, outcome };
    this.running = r;
    this.events.started();
    if (outcome === 'rejected') {
      this.finish(r, 'REJECTED', { reason: 'simulated rejection' });
      return;
    }
    if (outcome === 'hung') {
      this.events.ended('hung');
      return;
    }
    const half = Math.floor(b.workMs / 2);
    const progress = () => {
      if (this.running !== r) return;
      this.publish(`${r.jobId}/update`, { status: 'IN_PROGRESS', statusDetails: { progress: '50%' } });
      r.cancelTimer = this.after(b.workMs - half, () => this.finish(r, outcome === 'failed' ? 'FAILED' : 'SUCCEEDED', { progress: '100%' }));
    };
    r.cancelTimer = this.after(half, progress);
  }

  private finish(r: Running, status: 'SUCCEEDED' | 'FAILED' | 'REJECTED', statusDetails: Record<string, string>): void {
    if (this.running !== r) return;
    r.finishing = true;
    this.publish(`${r.jobId}/update`, { status, statusDetails });
  }

  /** Runs `fn` after `ms`; work of 0 ms runs on the next turn (no timer per device). */
  private after(ms: number, fn: () => void): () => void {
    if (ms <= 0) {
      let cancelled = false;
      setImmediate(() => !cancelled && fn());
      return () => (cancelled = true);
    }
    return this.clock.setTimer(this.clock.now() + ms, fn);
  }
}
