import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronError, CronSchedule, parseCron } from '../../src/domain/jobs/cron.js';
import {
  currentMaintenanceWindow,
  formatScheduleTime,
  nextMaintenanceWindowStarts,
  parseScheduleTime,
} from '../../src/domain/jobs/schedule-time.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The first `n` occurrences from `from`. */
function run(expr: string, from: string, n: number): (string | undefined)[] {
  const s = CronSchedule.parse(expr);
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = s.next(t);
    out.push(iso(t));
    if (t !== undefined) t += 60_000;
  }
  return out;
}

describe('EventBridge cron parser', () => {
  it('fires weekly at 02:00 on Mondays (cron(0 2 ? * MON *))', () => {
    // 2026-01-01 is a Thursday.
    assert.deepEqual(run('cron(0 2 ? * MON *)', '2026-01-01T00:00:00Z', 3), [
      '2026-01-05T02:00:00.000Z',
      '2026-01-12T02:00:00.000Z',
      '2026-01-19T02:00:00.000Z',
    ]);
  });

  it('includes the starting minute and rounds a partial minute up', () => {
    const s = CronSchedule.parse('cron(30 10 * * ? *)');
    assert.equal(iso(s.next(at('2026-03-01T10:30:00Z'))), '2026-03-01T10:30:00.000Z');
    assert.equal(iso(s.next(at('2026-03-01T10:30:00.001Z'))), '2026-03-02T10:30:00.000Z');
    assert.equal(iso(s.next(at('2026-03-01T10:29:59.500Z'))), '2026-03-01T10:30:00.000Z');
  });

  it('handles lists, ranges, increments and names', () => {
    assert.deepEqual(run('cron(0/15 9-10 ? * MON-FRI *)', '2026-01-02T10:40:00Z', 4), [
      '2026-01-02T10:45:00.000Z', // Friday
      '2026-01-05T09:00:00.000Z', // Monday
      '2026-01-05T09:15:00.000Z',
      '2026-01-05T09:30:00.000Z',
    ]);
    assert.deepEqual(run('cron(*/20 0 1,15 JAN,jul ? *)', '2026-01-01T00:00:00Z', 4), [
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:20:00.000Z',
      '2026-01-01T00:40:00.000Z',
      '2026-01-15T00:00:00.000Z',
    ]);
    assert.deepEqual(run('cron(5 10-20/5 ? * 1 2027)', '2026-01-01T00:00:00Z', 3), [
      '2027-01-03T10:05:00.000Z', // the first Sunday of 2027
      '2027-01-03T15:05:00.000Z',
      '2027-01-03T20:05:00.000Z',
    ]);
  });

  it('wraps circular ranges (hours 22-1, FRI-MON)', () => {
    assert.deepEqual(run('cron(0 22-1 1 1 ? 2026)', '2026-01-01T00:00:00Z', 4), [
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T22:00:00.000Z',
      '2026-01-01T23:00:00.000Z',
    ]);
    const days = run('cron(0 12 ? * FRI-MON *)', '2026-01-01T00:00:00Z', 5).map((d) => new Date(d!).getUTCDay());
    assert.deepEqual(days, [5, 6, 0, 1, 5]);
  });

  it('supports L, LW and nW in day-of-month', () => {
    assert.deepEqual(run('cron(0 0 L * ? *)', '2026-01-15T00:00:00Z', 3), [
      '2026-01-31T00:00:00.000Z',
      '2026-02-28T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
    ]);
    assert.equal(run('cron(0 0 L 2 ? 2028)', '2026-01-01T00:00:00Z', 1)[0], '2028-02-29T00:00:00.000Z');
    // Last weekday: 2026-01-31 is a Saturday → Friday the 30th; 2026-05-31 is a Sunday → Friday the 29th.
    assert.equal(run('cron(0 0 LW 1 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], '2026-01-30T00:00:00.000Z');
    assert.equal(run('cron(0 0 LW 5 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], '2026-05-29T00:00:00.000Z');
    // 2026-02-01 is a Sunday → 1W fires Monday the 2nd; 2026-08-01 is a Saturday → 1W fires Monday the 3rd.
    assert.equal(run('cron(0 0 1W 2 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], '2026-02-02T00:00:00.000Z');
    assert.equal(run('cron(0 0 1W 8 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], '2026-08-03T00:00:00.000Z');
    // 2026-02-14 is a Saturday → Friday the 13th; 2026-02-15 a Sunday → Monday the 16th.
    assert.equal(run('cron(0 0 14W 2 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], '2026-02-13T00:00:00.000Z');
    assert.equal(run('cron(0 0 15W 2 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], '2026-02-16T00:00:00.000Z');
    // 2026-05-31 is a Sunday and the last day: 31W goes back to Friday the 29th; February has no 31st.
    assert.equal(run('cron(0 0 31W 5 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], '2026-05-29T00:00:00.000Z');
    assert.equal(run('cron(0 0 31W 2 ? 2026)', '2026-01-01T00:00:00Z', 1)[0], undefined);
  });

  it('supports L, nL and n#k in day-of-week', () => {
    // L alone is Saturday.
    assert.equal(new Date(run('cron(0 0 ? * L *)', '2026-01-01T00:00:00Z', 1)[0]!).getUTCDay(), 6);
    // Last Friday (6L) of January and February 2026.
    assert.deepEqual(run('cron(0 0 ? * 6L *)', '2026-01-01T00:00:00Z', 2), ['2026-01-30T00:00:00.000Z', '2026-02-27T00:00:00.000Z']);
    // Second Tuesday (3#2) and first Sunday (SUN#1).
    assert.deepEqual(run('cron(0 0 ? * 3#2 *)', '2026-01-01T00:00:00Z', 2), ['2026-01-13T00:00:00.000Z', '2026-02-10T00:00:00.000Z']);
    assert.equal(run('cron(0 0 ? * SUN#1 *)', '2026-01-01T00:00:00Z', 1)[0], '2026-01-04T00:00:00.000Z');
    // A fifth Monday exists only in some months: March 2026 has 5 Mondays (2, 9, 16, 23, 30).
    assert.equal(run('cron(0 0 ? * MON#5 *)', '2026-01-01T00:00:00Z', 1)[0], '2026-03-30T00:00:00.000Z');
  });

  it('respects the year field and ends when it runs out', () => {
    assert.deepEqual(run('cron(0 0 1 1 ? 2027-2028)', '2026-06-01T00:00:00Z', 3), [
      '2027-01-01T00:00:00.000Z',
      '2028-01-01T00:00:00.000Z',
      undefined,
    ]);
    assert.equal(CronSchedule.parse('cron(0 0 30 2 ? *)').next(at('2026-01-01T00:00:00Z')), undefined);
    assert.equal(CronSchedule.parse('cron(0 0 1 1 ? 2020)').next(at('2026-01-01T00:00:00Z')), undefined);
  });

  it('accepts the bare six fields and is case-insensitive', () => {
    assert.equal(iso(CronSchedule.parse('0 2 ? * mon *').next(at('2026-01-01T00:00:00Z'))), '2026-01-05T02:00:00.000Z');
  });

  it('rejects malformed expressions with a reason', () => {
    const bad: [string, RegExp][] = [
      ['cron(0 2 * * MON *)', /exactly one of day-of-month and day-of-week/],
      ['cron(0 2 ? * ? *)', /exactly one of day-of-month and day-of-week/],
      ['cron(0 2 ? * MON)', /expected 6 fields/],
      ['cron()', /found 0/],
      ['cron(60 2 ? * MON *)', /minutes value 60/],
      ['cron(0 24 ? * MON *)', /hours value 24/],
      ['cron(5 10-40/15 ? * 1 *)', /hours value 40/],
      ['cron(0 0 32 * ? *)', /day-of-month value 32/],
      ['cron(0 0 0 * ? *)', /day-of-month value 0/],
      ['cron(0 0 ? 13 MON *)', /month value 13/],
      ['cron(0 0 ? * 8 *)', /day-of-week value 8/],
      ['cron(0 0 ? * FUN *)', /invalid day-of-week value/],
      ['cron(0 0 1 * ? 1969)', /year value 1969/],
      ['cron(0 0 1 * ? 2030-2027)', /invalid year range/],
      ['cron(0 0 1 * ? *)x', /expected 6 fields|invalid/],
      ['cron(0/0 0 1 * ? *)', /increment/],
      ['cron(0 0 1,L * ? *)', /invalid day-of-month/],
      ['cron(0 0 ? * MON#6 *)', /occurrence/],
      ['cron(0 0 1-5W * ? *)', /invalid day-of-month/],
      ['cron(0 0 ? * 1,2L *)', /invalid day-of-week/],
      ['cron(a b ? d e f)', /invalid minutes value/],
      ['cron(0 0 1 * ? *', /expected 6 fields|invalid/],
    ];
    for (const [expr, reason] of bad) {
      assert.throws(() => CronSchedule.parse(expr), (err: Error) => err instanceof CronError && reason.test(err.message), expr);
    }
  });

  it('caches parsed schedules', () => {
    assert.equal(parseCron('cron(0 3 ? * TUE *)'), parseCron('cron(0 3 ? * TUE *)'));
  });
});

describe('schedule times and maintenance windows', () => {
  it('parses ISO-8601 schedule times, UTC unless a zone is given', () => {
    assert.equal(parseScheduleTime('2030-01-01T00:00'), Date.UTC(2030, 0, 1));
    assert.equal(parseScheduleTime('2030-01-01 10:30'), Date.UTC(2030, 0, 1, 10, 30));
    assert.equal(parseScheduleTime('2030-01-01T10:30:15Z'), Date.UTC(2030, 0, 1, 10, 30, 15));
    assert.equal(parseScheduleTime('2030-01-01T10:30:15.250Z'), Date.UTC(2030, 0, 1, 10, 30, 15, 250));
    assert.equal(parseScheduleTime('2030-01-01T10:30+02:00'), Date.UTC(2030, 0, 1, 8, 30));
    assert.equal(parseScheduleTime('2030-01-01T10:30-0130'), Date.UTC(2030, 0, 1, 12, 0));
    assert.equal(parseScheduleTime('2030-01-01'), Date.UTC(2030, 0, 1));
    for (const bad of ['2030-13-01T00:00', '2030-02-30T00:00', '2030-01-01T24:00', '2030-01-01T10:60', 'tomorrow', '', '2030-1-1T00:00', '1700000000']) {
      assert.equal(parseScheduleTime(bad), undefined, bad);
    }
    assert.equal(formatScheduleTime(Date.UTC(2030, 0, 1, 9, 5, 30)), '2030-01-01T09:05');
  });

  it('lists the next window openings across several windows, earliest first, without duplicates', () => {
    const windows = [
      { startTime: 'cron(0 2 ? * MON *)', durationInMinutes: 60 },
      { startTime: 'cron(0 2 ? * MON,WED *)', durationInMinutes: 120 },
      { startTime: 'not a cron', durationInMinutes: 10 },
    ];
    const next = nextMaintenanceWindowStarts(windows, at('2026-01-01T00:00:00Z'), 7);
    assert.deepEqual(
      next.map((o) => o.startTime),
      ['2026-01-05T02:00', '2026-01-07T02:00', '2026-01-12T02:00', '2026-01-14T02:00', '2026-01-19T02:00', '2026-01-21T02:00', '2026-01-26T02:00'],
    );
    // Mondays open in both windows: the longer duration wins.
    assert.equal(next[0].endMs - next[0].startMs, 120 * 60_000);
    assert.equal(nextMaintenanceWindowStarts([], 0, 7).length, 0);
    assert.deepEqual(nextMaintenanceWindowStarts([{ startTime: 'cron(0 0 1 1 ? 2027)', durationInMinutes: 5 }], at('2026-01-01T00:00:00Z'), 7).map((o) => o.startTime), ['2027-01-01T00:00']);
  });

  it('tells which window is open now', () => {
    const windows = [{ startTime: 'cron(0 23 ? * MON *)', durationInMinutes: 120 }];
    // Monday 2026-01-05 23:00 → Tuesday 01:00.
    assert.equal(currentMaintenanceWindow(windows, at('2026-01-05T22:59:59Z')), undefined);
    assert.equal(currentMaintenanceWindow(windows, at('2026-01-05T23:00:00Z'))?.startTime, '2026-01-05T23:00');
    assert.equal(currentMaintenanceWindow(windows, at('2026-01-06T00:59:59Z'))?.startTime, '2026-01-05T23:00');
    assert.equal(currentMaintenanceWindow(windows, at('2026-01-06T01:00:00Z')), undefined);
  });
});
