import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobActivity } from '../domain/jobs/job-activity.js';

/**
 * The server's Prometheus metrics (`GET /metrics`, issue 14), on a registry of its own so that
 * several servers in one process (tests, fleetjobs/testing) keep theirs apart. Names follow
 * Prometheus conventions under `fleetjobs_`; the README lists them.
 *
 * Counters are moved where things happen (a request done, a commit that released or timed out
 * executions); gauges are read when scraped, from sources that answer in a row per job or less.
 */
export interface RegionSource {
  region: string;
  executionsByStatus(): Promise<Record<string, number>>;
  jobsByStatus(): Promise<Record<string, number>>;
  sbomQueue(): { queued: number; running: number };
  poolUse(): { total: number; idle: number; waiting: number };
}

export interface MqttSource {
  stats(): { connections: number; received: number; sent: number };
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly regions: RegionSource[] = [];
  private mqtt?: MqttSource;
  private readonly requests: Counter<'api' | 'operation' | 'status'>;
  private readonly latency: Histogram<'api' | 'operation'>;
  private readonly released: Counter<'region'>;
  private readonly timedOut: Counter<'region'>;
  private readonly aborted: Counter<'region'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'fleetjobs_' });
    this.requests = new Counter({ name: 'fleetjobs_http_requests_total', help: 'HTTP requests answered, by API, operation and status', labelNames: ['api', 'operation', 'status'], registers });
    this.latency = new Histogram({
      name: 'fleetjobs_http_request_duration_seconds',
      help: 'Time from a request\'s arrival to the end of its answer',
      labelNames: ['api', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.released = new Counter({ name: 'fleetjobs_job_executions_released_total', help: 'Job executions released by rollouts', labelNames: ['region'], registers });
    this.timedOut = new Counter({ name: 'fleetjobs_job_executions_timed_out_total', help: 'Job executions timed out', labelNames: ['region'], registers });
    this.aborted = new Counter({ name: 'fleetjobs_jobs_aborted_total', help: 'Jobs canceled by their abortConfig', labelNames: ['region'], registers });

    // A gauge per region and label value, read from every region at each scrape.
    const regions = this.regions;
    const perRegion = (name: string, help: string, label: string, read: (r: RegionSource) => Promise<Record<string, number>> | Record<string, number>) =>
      new Gauge({
        name,
        help,
        labelNames: ['region', label],
        registers,
        async collect() {
          this.reset();
          for (const r of regions) for (const [value, n] of Object.entries(await read(r))) this.set({ region: r.region, [label]: value }, n);
        },
      });
    perRegion('fleetjobs_job_executions', 'Job executions by status (the jobs\' counters)', 'status', (r) => r.executionsByStatus());
    perRegion('fleetjobs_jobs', 'Jobs by status', 'status', (r) => r.jobsByStatus());
    perRegion('fleetjobs_sbom_validations', 'SBOM validations waiting or running on this node', 'state', (r) => r.sbomQueue());
    perRegion('fleetjobs_db_connections', 'Database connections: in use, idle, and requests waiting for one', 'state', (r) => {
      const u = r.poolUse();
      return { in_use: u.total - u.idle, idle: u.idle, waiting: u.waiting };
    });
    const mqtt = () => this.mqtt?.stats();
    new Gauge({ name: 'fleetjobs_mqtt_connections', help: 'MQTT clients connected (the external broker: its backend connection)', registers, collect() { this.set(mqtt()?.connections ?? 0); } });
    // Totals the MQTT door keeps, moved on by what they grew since the last scrape.
    const total = (name: string, help: string, read: () => number | undefined) => {
      let seen = 0;
      new Counter({ name, help, registers, collect() { const now = read() ?? seen; if (now > seen) this.inc(now - seen); seen = now; } });
    };
    total('fleetjobs_mqtt_messages_received_total', 'MQTT messages received from devices', () => mqtt()?.received);
    total('fleetjobs_mqtt_messages_sent_total', 'MQTT messages sent to devices', () => mqtt()?.sent);
  }

  /** A region's sources, and the JobActivity its domain tells. */
  addRegion(source: RegionSource): JobActivity {
    this.regions.push(source);
    const region = { region: source.region };
    return {
      released: (n) => this.released.inc(region, n),
      timedOut: (n) => this.timedOut.inc(region, n),
      aborted: () => this.aborted.inc(region),
    };
  }

  setMqtt(source: MqttSource): void {
    this.mqtt = source;
  }

  /** One request done (the request log's record). */
  request(api: string | undefined, operation: string | undefined, status: number, ms: number): void {
    const labels = { api: api ?? 'none', operation: operation ?? 'none' };
    this.requests.inc({ ...labels, status: String(status) });
    this.latency.observe(labels, ms / 1000);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
