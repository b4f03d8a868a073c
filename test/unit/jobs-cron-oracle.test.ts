import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cron } from 'croner';
import { CronSchedule } from '../../src/domain/jobs/cron.js';

/**
 * Our EventBridge cron parser against an independent implementation, croner (decision 0008), on
 * the part of the dialect both understand: croner in 7-part mode with Quartz weekday numbering reads
 * `0 <minutes> <hours> <day-of-month> <month> <day-of-week> <year>`, with `n#L` for EventBridge's
 * `nL`. Expressions are drawn from a seeded generator, so a failure is reproducible.
 */

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Expression {
  eventBridge: string;
  croner: string;
}

function generator(seed: number) {
  const random = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];

  /** `*`, `n`, `a-b`, `*\/s`, `a-b/s` or a list of values and ranges, never wrapping around. */
  function numeric(min: number, max: number, names?: readonly string[]): string {
    const value = (n: number) => (names && random() < 0.3 ? names[n - min] : String(n));
    const range = () => {
      const a = int(min, max - 1);
      return `${value(a)}-${value(int(a + 1, max))}`;
    };
    switch (int(0, 5)) {
      case 0:
        return '*';
      case 1:
        return value(int(min, max));
      case 2:
        return range();
      case 3:
        return `*/${int(2, Math.max(2, Math.floor((max - min) / 2)))}`;
      case 4: {
        const a = int(min, max - 2);
        return `${a}-${int(a + 1, max)}/${int(2, 4)}`;
      }
      default:
        return Array.from({ length: int(2, 3) }, () => (random() < 0.5 ? value(int(min, max)) : range())).join(',');
    }
  }

  return (): Expression => {
    const minutes = numeric(0, 59);
    const hours = numeric(0, 23);
    const month = random() < 0.5 ? '*' : numeric(1, 12, MONTHS);
    const year = pick(['*', '*', '2027', '2027-2029', '2026,2028']);
    let dom = '?';
    let dow = '?';
    let cronerDow = '?';
    if (random() < 0.5) {
      dom = pick(['*', 'L', 'LW', `${int(1, 31)}W`, numeric(1, 31)]);
    } else {
      const day = int(1, 7);
      const name = random() < 0.5 ? DAYS[day - 1] : String(day);
      switch (int(0, 3)) {
        case 0:
          dow = cronerDow = numeric(1, 7, DAYS);
          break;
        case 1:
          dow = `${name}L`;
          cronerDow = `${name}#L`;
          break;
        case 2:
          dow = cronerDow = `${name}#${int(1, 5)}`;
          break;
        default:
          dow = cronerDow = '*';
      }
    }
    return {
      eventBridge: `cron(${minutes} ${hours} ${dom} ${month} ${dow} ${year})`,
      croner: `0 ${minutes} ${hours} ${dom} ${month} ${cronerDow} ${year}`,
    };
  };
}

const OCCURRENCES = 6;

function ours(expression: string, fromMs: number): string[] {
  const schedule = CronSchedule.parse(expression);
  const out: string[] = [];
  let t: number | undefined = fromMs;
  while (out.length < OCCURRENCES) {
    t = schedule.next(t);
    if (t === undefined) break;
    out.push(new Date(t).toISOString());
    t += 60_000;
  }
  return out;
}

function theirs(pattern: string, fromMs: number): string[] {
  const cron = new Cron(pattern, { timezone: 'UTC', mode: '7-part', alternativeWeekdays: true, paused: true });
  return cron.nextRuns(OCCURRENCES, new Date(fromMs)).map((d) => d.toISOString());
}

describe('EventBridge cron parser against croner', () => {
  it('agrees on the next occurrences of 1,500 generated expressions', () => {
    const next = generator(20261125);
    const random = prng(7);
    let compared = 0;
    for (let i = 0; i < 1500; i++) {
      const { eventBridge, croner } = next();
      // Half a minute past a minute: both answer with the first whole minute after it.
      const from = Date.UTC(2026, Math.floor(random() * 12), 1 + Math.floor(random() * 28), Math.floor(random() * 24), Math.floor(random() * 60), 30);
      assert.deepEqual(ours(eventBridge, from), theirs(croner, from), `${eventBridge} from ${new Date(from).toISOString()} (croner: ${croner})`);
      compared++;
    }
    assert.equal(compared, 1500);
  });
});
