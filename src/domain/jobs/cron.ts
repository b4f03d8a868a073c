/**
 * EventBridge cron expressions (`cron(min hour day-of-month month day-of-week year)`), the form AWS
 * IoT Jobs uses for maintenance windows (jobs.md §6), evaluated in UTC.
 *
 * Our own parser because no npm cron library reads this dialect as EventBridge does (decision
 * 0008); test/unit/jobs-cron-oracle.test.ts checks it against croner where the two overlap.
 *
 * Fields and wildcards (EventBridge rules):
 *   minutes 0-59, hours 0-23, year 1970-2199: `,` `-` `*` `/`
 *   day-of-month 1-31: also `?`, `L` (last day), `nW` (weekday nearest to n), `LW` (last weekday)
 *   month 1-12 or JAN-DEC
 *   day-of-week 1-7 (1 = SUN) or SUN-SAT: also `?`, `L` (= SAT), `nL` (last n-day of the month),
 *   `n#k` (k-th n-day of the month)
 * Exactly one of day-of-month and day-of-week is `?`.
 */

export class CronError extends Error {}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MINUTE_MS = 60_000;
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

type DayOfMonth =
  | { kind: 'unspecified' }
  | { kind: 'days'; days: Set<number> }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

type DayOfWeek =
  | { kind: 'unspecified' }
  | { kind: 'days'; days: Set<number> }
  | { kind: 'lastOfMonth'; day: number }
  | { kind: 'nth'; day: number; nth: number };

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Whether `a-b` with a > b wraps around (hours 22-2); not for years. */
  circular: boolean;
}

const MINUTE: FieldSpec = { name: 'minutes', min: 0, max: 59, circular: true };
const HOUR: FieldSpec = { name: 'hours', min: 0, max: 23, circular: true };
const DOM: FieldSpec = { name: 'day-of-month', min: 1, max: 31, circular: true };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTHS, circular: true };
const DOW: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: DAYS, circular: true };
const YEAR: FieldSpec = { name: 'year', min: FIRST_YEAR, max: LAST_YEAR, circular: false };

export class CronSchedule {
  private constructor(
    readonly expression: string,
    private readonly minutes: number[],
    private readonly hours: number[],
    private readonly dayOfMonth: DayOfMonth,
    private readonly months: Set<number>,
    private readonly dayOfWeek: DayOfWeek,
    private readonly years: Set<number>,
  ) {}

  /** Parses `cron(...)` (or the bare six fields); throws CronError saying what is wrong. */
  static parse(expression: string): CronSchedule {
    const inner = /^\s*cron\((.*)\)\s*$/s.exec(expression)?.[1] ?? expression;
    const fields = inner.trim().split(/\s+/);
    if (fields.length !== 6 || fields[0] === '') {
      throw new CronError(`expected 6 fields (minutes hours day-of-month month day-of-week year) but found ${fields[0] === '' ? 0 : fields.length}`);
    }
    const [min, hour, dom, month, dow, year] = fields.map((f) => f.toUpperCase());
    if ((dom === '?') === (dow === '?')) {
      throw new CronError('exactly one of day-of-month and day-of-week must be ?');
    }
    return new CronSchedule(
      expression,
      [...parseSet(min, MINUTE)].sort((a, b) => a - b),
      [...parseSet(hour, HOUR)].sort((a, b) => a - b),
      parseDayOfMonth(dom),
      parseSet(month, MONTH),
      parseDayOfWeek(dow),
      parseSet(year, YEAR),
    );
  }

  /** The first occurrence at or after `fromMs` (whole minutes, UTC), or undefined if there is none. */
  next(fromMs: number): number | undefined {
    const start = new Date(Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS);
    const y0 = start.getUTCFullYear();
    const m0 = start.getUTCMonth() + 1;
    const d0 = start.getUTCDate();
    const h0 = start.getUTCHours();
    const min0 = start.getUTCMinutes();
    for (let year = Math.max(y0, FIRST_YEAR); year <= LAST_YEAR; year++) {
      if (!this.years.has(year)) continue;
      for (let month = year === y0 ? m0 : 1; month <= 12; month++) {
        if (!this.months.has(month)) continue;
        const dim = daysInMonth(year, month);
        const firstDay = year === y0 && month === m0 ? d0 : 1;
        for (let day = firstDay; day <= dim; day++) {
          if (!this.dayMatches(year, month, day, dim)) continue;
          const today = year === y0 && month === m0 && day === d0;
          for (const hour of this.hours) {
            if (today && hour < h0) continue;
            for (const minute of this.minutes) {
              if (today && hour === h0 && minute < min0) continue;
              return Date.UTC(year, month - 1, day, hour, minute);
            }
          }
        }
      }
    }
    return undefined;
  }

  private dayMatches(year: number, month: number, day: number, dim: number): boolean {
    const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1; // 1 = SUN
    const dom = this.dayOfMonth;
    switch (dom.kind) {
      case 'days':
        if (!dom.days.has(day)) return false;
        break;
      case 'last':
        if (day !== dim) return false;
        break;
      case 'lastWeekday':
        if (day !== lastWeekday(year, month, dim)) return false;
        break;
      case 'nearestWeekday':
        if (day !== nearestWeekday(year, month, dom.day, dim)) return false;
        break;
      case 'unspecified':
        break;
    }
    const dow = this.dayOfWeek;
    switch (dow.kind) {
      case 'days':
        return dow.days.has(weekday);
      case 'lastOfMonth':
        return weekday === dow.day && day + 7 > dim;
      case 'nth':
        return weekday === dow.day && Math.ceil(day / 7) === dow.nth;
      case 'unspecified':
        return true;
    }
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay(); // 0 = SUN
}

function lastWeekday(year: number, month: number, dim: number): number {
  const w = weekdayOf(year, month, dim);
  return w === 6 ? dim - 1 : w === 0 ? dim - 2 : dim;
}

/** Quartz `nW`: the weekday nearest to day n, never leaving the month; none when n is past its end. */
function nearestWeekday(year: number, month: number, n: number, dim: number): number | undefined {
  if (n > dim) return undefined;
  const w = weekdayOf(year, month, n);
  if (w === 6) return n === 1 ? 3 : n - 1;
  if (w === 0) return n === dim ? n - 2 : n + 1;
  return n;
}

function parseValue(text: string, spec: FieldSpec): number {
  const byName = spec.names?.indexOf(text) ?? -1;
  if (byName >= 0) return byName + 1;
  if (!/^\d+$/.test(text)) throw new CronError(`invalid ${spec.name} value '${text}'`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new CronError(`${spec.name} value ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

/** Lists of `*`, `a`, `a-b`, each optionally `/step`. */
function parseSet(field: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronError(`invalid ${spec.name} field '${field}'`);
    const [, range, stepText] = m;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1 || step > spec.max - spec.min + 1) throw new CronError(`invalid ${spec.name} increment '${stepText}'`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else if (range.includes('-')) {
      const bounds = range.split('-');
      if (bounds.length !== 2) throw new CronError(`invalid ${spec.name} range '${range}'`);
      from = parseValue(bounds[0], spec);
      to = parseValue(bounds[1], spec);
      if (from > to && !spec.circular) throw new CronError(`invalid ${spec.name} range '${range}'`);
    } else {
      from = parseValue(range, spec);
      to = stepText === undefined ? from : spec.max;
    }
    const span = spec.max - spec.min + 1;
    const count = from <= to ? to - from : to + span - from;
    for (let i = 0; i <= count; i += step) out.add(((from - spec.min + i) % span) + spec.min);
  }
  return out;
}

function parseDayOfMonth(field: string): DayOfMonth {
  if (field === '?') return { kind: 'unspecified' };
  if (field === 'L') return { kind: 'last' };
  if (field === 'LW') return { kind: 'lastWeekday' };
  const w = /^(\d+)W$/.exec(field);
  if (w) return { kind: 'nearestWeekday', day: parseValue(w[1], DOM) };
  if (/[LW#]/.test(field)) throw new CronError(`invalid day-of-month field '${field}'`);
  return { kind: 'days', days: parseSet(field, DOM) };
}

function parseDayOfWeek(field: string): DayOfWeek {
  if (field === '?') return { kind: 'unspecified' };
  if (field === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^([A-Z]+|\d+)L$/.exec(field);
  if (last) return { kind: 'lastOfMonth', day: parseValue(last[1], DOW) };
  const nth = /^([A-Z]+|\d+)#(\d+)$/.exec(field);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) throw new CronError(`invalid day-of-week occurrence '#${nth[2]}' (1-5)`);
    return { kind: 'nth', day: parseValue(nth[1], DOW), nth: n };
  }
  // Day names (WED) contain letters of the special characters: test what is left without them.
  if (/[LW#]/.test(field.replace(/SUN|MON|TUE|WED|THU|FRI|SAT/g, ''))) throw new CronError(`invalid day-of-week field '${field}'`);
  return { kind: 'days', days: parseSet(field, DOW) };
}

/** Parsed schedules are immutable; keep a bounded cache so hot paths do not re-parse. */
const cache = new Map<string, CronSchedule>();
const CACHE_LIMIT = 512;

export function parseCron(expression: string): CronSchedule {
  const hit = cache.get(expression);
  if (hit) return hit;
  const schedule = CronSchedule.parse(expression);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(expression, schedule);
  return schedule;
}
