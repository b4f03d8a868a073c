import { CronError, parseCron } from './cron.js';

/**
 * Times of `schedulingConfig` and maintenance windows (jobs.md §6). `startTime` / `endTime` are
 * plain strings on the wire (`2030-01-01T00:00`); we accept ISO-8601 with optional seconds,
 * fraction and zone, and read a time without a zone as UTC (open decision 18).
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseScheduleTime(text: string): number | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0);
  if (zone && zone.toUpperCase() !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const offset = (Number(zm[2]) * 60 + Number(zm[3])) * 60_000;
    if (Number(zm[2]) > 23 || Number(zm[3]) > 59) return undefined;
    ms -= zm[1] === '+' ? offset : -offset;
  }
  return ms;
}

/** The wire form AWS uses for these strings: `YYYY-MM-DDTHH:MM` in UTC. */
export function formatScheduleTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

export interface MaintenanceWindow {
  /** An EventBridge cron expression, e.g. `cron(0 2 ? * MON *)`. */
  startTime: string;
  durationInMinutes: number;
}

export interface WindowOccurrence {
  /** `YYYY-MM-DDTHH:MM` (UTC), as `Job.scheduledJobRollouts[].startTime`. */
  startTime: string;
  startMs: number;
  endMs: number;
}

/** Why a maintenance window's cron expression is unusable, or undefined when it is fine. */
export function cronProblem(expression: string): string | undefined {
  try {
    parseCron(expression);
    return undefined;
  } catch (err) {
    if (err instanceof CronError) return err.message;
    throw err;
  }
}

/**
 * The next `count` window openings at or after `fromMs`, over all windows, earliest first (two
 * windows opening at the same minute count once, with the longer duration). For
 * `Job.scheduledJobRollouts` (the next seven).
 */
export function nextMaintenanceWindowStarts(windows: readonly MaintenanceWindow[], fromMs: number, count: number): WindowOccurrence[] {
  const cursors = windows.flatMap((w) => {
    try {
      const schedule = parseCron(w.startTime);
      const at = schedule.next(fromMs);
      return at === undefined ? [] : [{ schedule, at, durationMs: w.durationInMinutes * 60_000 }];
    } catch {
      return []; // validated on the way in; an unusable window simply never opens
    }
  });
  const out: WindowOccurrence[] = [];
  while (out.length < count && cursors.length > 0) {
    let min = Infinity;
    for (const c of cursors) min = Math.min(min, c.at);
    let durationMs = 0;
    for (let i = cursors.length - 1; i >= 0; i--) {
      const c = cursors[i];
      if (c.at !== min) continue;
      durationMs = Math.max(durationMs, c.durationMs);
      const next = c.schedule.next(c.at + 60_000);
      if (next === undefined) cursors.splice(i, 1);
      else c.at = next;
    }
    out.push({ startTime: formatScheduleTime(min), startMs: min, endMs: min + durationMs });
  }
  return out;
}

/** The window occurrence open at `nowMs` (start ≤ now < end) that ends last, if any. */
export function currentMaintenanceWindow(windows: readonly MaintenanceWindow[], nowMs: number): WindowOccurrence | undefined {
  let best: WindowOccurrence | undefined;
  for (const w of windows) {
    const durationMs = w.durationInMinutes * 60_000;
    // Durations are at most 1430 minutes, so an open occurrence started within the last day.
    for (const o of nextMaintenanceWindowStarts([w], nowMs - durationMs + 1, 1440)) {
      if (o.startMs > nowMs) break;
      if (o.endMs > nowMs && (!best || o.endMs > best.endMs)) best = o;
    }
  }
  return best;
}
