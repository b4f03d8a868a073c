import type { SecureContext } from 'node:tls';
import type { Clock } from '../clock.js';
import { SimulatedDevice, type Behaviour, type Outcome } from './device.js';

/** How long a stopping fleet waits for the answers to terminal reports already sent. */
const STOP_GRACE_MS = 2000;

/**
 * A fleet of simulated devices (`fleetjobs simulate`, the MQTT benchmark, tests): connects them at
 * a given rate, counts what they do, and says when it has been idle long enough to stop.
 */
export interface FleetOptions {
  brokerUrl: string;
  things: string[];
  behaviour: Behaviour;
  /** Devices connected per second. */
  connectRate: number;
  /** Connections being opened at once, at most. */
  connectConcurrency?: number;
  username?: string;
  password?: string;
  /**
   * An `mqtts://` broker: the CA its certificate is checked against (else the system's), and with
   * mutual TLS each device's key and certificate, or its TLS context made from them beforehand (a
   * device's TLS stack holds its key loaded: the benchmark makes them before it times the connects).
   */
  tls?: { ca?: string; credentials?: (thingName: string) => { keyPem: string; certPem: string } | { secureContext: SecureContext } };
  clock: Clock;
  random?: () => number;
}

export interface FleetStats {
  devices: number;
  connected: number;
  connectFailures: number;
  /** Jobs a device is working on now (hung ones excluded). */
  inProgress: number;
  succeeded: number;
  failed: number;
  rejected: number;
  hung: number;
  /** Rejected replies the devices received, by code. */
  refusals: Record<string, number>;
  /** When the first job started on a device, and when the last one ended (epoch ms). */
  firstStartedAt?: number;
  lastEndedAt?: number;
}

export class Fleet {
  readonly stats: FleetStats;
  private readonly devices: SimulatedDevice[] = [];
  private lastActivity: number;
  private stopped = false;
  private connecting?: Promise<void>;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly o: FleetOptions) {
    this.stats = { devices: o.things.length, connected: 0, connectFailures: 0, inProgress: 0, succeeded: 0, failed: 0, rejected: 0, hung: 0, refusals: {} };
    this.lastActivity = o.clock.now();
  }

  /** Called after every change of the counters (a progress display, a test waiting for a count). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.lastActivity = this.o.clock.now();
    for (const l of this.listeners) l();
  }

  /** Connects every device, `connectRate` a second; resolves once each has connected or failed to. */
  start(): Promise<void> {
    this.connecting ??= this.connectAll();
    return this.connecting;
  }

  private async connectAll(): Promise<void> {
    const { clock, things } = this.o;
    const started = clock.now();
    const concurrency = this.o.connectConcurrency ?? 256;
    let next = 0;
    const worker = async () => {
      while (next < things.length && !this.stopped) {
        const i = next++;
        // Paced: device i connects no earlier than i / rate seconds after the start.
        const at = started + Math.floor((i * 1000) / this.o.connectRate);
        if (at > clock.now()) await new Promise<void>((resolve) => clock.setTimer(at, resolve));
        if (this.stopped) return;
        const device = new SimulatedDevice(things[i], this.o.behaviour, this.events(), clock, this.o.random);
        this.devices.push(device);
        try {
          const { tls } = this.o;
          const own = tls?.credentials?.(things[i]);
          const tlsOptions = own && 'secureContext' in own ? { secureContext: own.secureContext } : { ...(tls?.ca !== undefined ? { ca: tls.ca } : {}), ...(own ? { key: own.keyPem, cert: own.certPem } : {}) };
          await device.connect(this.o.brokerUrl, { username: this.o.username, password: this.o.password, ...tlsOptions });
          this.stats.connected++;
        } catch {
          this.stats.connectFailures++;
        }
        this.changed();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, things.length) }, worker));
  }

  private events() {
    const s = this.stats;
    return {
      started: () => {
        s.inProgress++;
        s.firstStartedAt ??= this.o.clock.now();
        this.changed();
      },
      ended: (outcome?: Outcome) => {
        s.inProgress--;
        if (outcome) s[outcome]++;
        s.lastEndedAt = this.o.clock.now();
        this.changed();
      },
      refused: (code: string) => {
        s.refusals[code] = (s.refusals[code] ?? 0) + 1;
        this.changed();
      },
      activity: () => {
        this.lastActivity = this.o.clock.now();
      },
    };
  }

  /**
   * Resolves once every device has connected (or failed to) and nothing has happened for
   * `seconds`: no job offered, started, reported or ended.
   */
  async idleFor(seconds: number): Promise<void> {
    await this.start();
    const ms = seconds * 1000;
    const { clock } = this.o;
    for (;;) {
      if (this.stopped) return;
      const due = this.lastActivity + ms;
      if (clock.now() >= due) return;
      await new Promise<void>((resolve) => clock.setTimer(due, resolve));
    }
  }

  /**
   * Disconnects every device it opened, once the terminal reports already sent are answered (at
   * most 2 s of waiting: a server that went away does not hold the simulator up).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.connecting?.catch(() => undefined);
    const { clock } = this.o;
    let cancel: (() => void) | undefined;
    await Promise.race([
      Promise.all(this.devices.map((d) => d.settled())),
      new Promise<void>((resolve) => (cancel = clock.setTimer(clock.now() + STOP_GRACE_MS, resolve))),
    ]);
    cancel?.();
    await Promise.all(this.devices.map((d) => d.close()));
  }
}
