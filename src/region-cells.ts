import type { Logger } from 'pino';
import { DomainError } from './domain/errors.js';
import type { RegionCell } from './region-cell.js';

/** With '*', regions open on demand: at most this many besides the home one, so a caller cannot open them without end. */
const MAX_OPEN_REGIONS = 32;

/**
 * The home region's cell and the others (`--regions`, decision 0017), each opened once, on its
 * first request or at start. Background work starts once the server listens; a region opened
 * later starts its own at once.
 */
export class RegionCells {
  private readonly others = new Map<string, Promise<RegionCell>>();
  private started = false;

  constructor(
    readonly home: RegionCell,
    /** Whether a region other than the home one is served. */
    private readonly serves: (region: string) => boolean,
    private readonly open: (region: string) => Promise<RegionCell>,
    private readonly log: Logger,
  ) {}

  /** Another served region's cell, opened if it is not yet; undefined for the home region and regions not served. */
  get(region: string): Promise<RegionCell> | undefined {
    if (region === this.home.region || !this.serves(region)) return undefined;
    const existing = this.others.get(region);
    if (existing) return existing;
    if (this.others.size >= MAX_OPEN_REGIONS) {
      return Promise.reject(new DomainError('LimitExceededException', `This endpoint serves at most ${MAX_OPEN_REGIONS + 1} regions at once; ${region} would be one more.`));
    }
    const opening = this.open(region).then(async (cell) => {
      if (this.started) await cell.sbomValidation.start();
      return cell;
    });
    opening.catch((err: unknown) => {
      this.others.delete(region);
      this.log.error({ err, region }, 'a region could not be opened');
    });
    this.others.set(region, opening);
    return opening;
  }

  /** Every open cell, the home one first. */
  async all(): Promise<RegionCell[]> {
    const opened = await Promise.all([...this.others.values()].map((c) => c.catch(() => undefined)));
    return [this.home, ...opened.filter((c): c is RegionCell => c !== undefined)];
  }

  /** Once the server listens: every cell's background work. */
  async start(): Promise<void> {
    this.started = true;
    for (const c of await this.all()) await c.sbomValidation.start();
  }
}
