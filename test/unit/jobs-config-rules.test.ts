import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import {
  assertMaintenanceWindowsAllowed,
  checkDestinationPackageVersions,
  checkJobConfigs,
  checkRetryConfigUpdate,
  maintenanceWindowTargetProblem,
  schedulingTimes,
  type JobConfigOptions,
  type JobConfigs,
} from '../../src/domain/jobs/job-config-rules.js';
import { FieldErrors } from '../../src/domain/validation.js';

const NOW = Date.UTC(2026, 0, 1);
const JOB: JobConfigOptions = { forTemplate: false };
const ROLE = 'arn:aws:iam::123456789012:role/presign';

/** Runs the checker; returns the configs or the message the request would be refused with. */
function check(input: Record<string, unknown>, opts: JobConfigOptions = JOB): JobConfigs | string {
  const errors = new FieldErrors('InvalidRequestException');
  const out = checkJobConfigs(errors, input, NOW, opts);
  try {
    errors.throwIfAny();
  } catch (err) {
    assert.ok(err instanceof DomainError);
    assert.equal(err.errorName, 'InvalidRequestException');
    return err.message;
  }
  return out;
}

const clause = (value: string, member: string, rule: string) => `Value '${value}' at '${member}' failed to satisfy constraint: Member must ${rule}`;
const one = (value: string, member: string, rule: string) => `1 validation error detected: ${clause(value, member, rule)}`;
const rate = { baseRatePerMinute: 5, incrementFactor: 2, rateIncreaseCriteria: { numberOfNotifiedThings: 10 } };
const withRate = (over: Record<string, unknown>) => ({ jobExecutionsRolloutConfig: { maximumPerMinute: 20, exponentialRate: { ...rate, ...over } } });
const ABORT = 'abortConfig.criteriaList.1.member';
const RETRY = 'jobExecutionsRetryConfig.criteriaList.1.member';

describe('checkJobConfigs', () => {
  it('accepts and copies a full set of configs (the captured CreateJob body)', () => {
    const input = {
      presignedUrlConfig: { roleArn: ROLE, expiresInSec: 3600 },
      jobExecutionsRolloutConfig: { maximumPerMinute: 100, exponentialRate: { baseRatePerMinute: 10, incrementFactor: 1.5, rateIncreaseCriteria: { numberOfNotifiedThings: 5 } } },
      abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 20.5, minNumberOfExecutedThings: 3 }] },
      timeoutConfig: { inProgressTimeoutInMinutes: 60 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] },
      schedulingConfig: {
        startTime: '2026-06-01T00:00',
        endTime: '2026-06-02T00:00',
        endBehavior: 'STOP_ROLLOUT',
        maintenanceWindows: [{ startTime: 'cron(0 0 ? * MON *)', durationInMinutes: 60 }],
      },
      unrelated: 'ignored',
    };
    const out = check(input);
    const { unrelated: _, ...expected } = input;
    assert.deepEqual(out, expected);
  });

  it('returns only the members given', () => {
    assert.deepEqual(check({}), {});
    assert.deepEqual(check({ presignedUrlConfig: {} }), { presignedUrlConfig: {} });
    assert.deepEqual(check({ jobExecutionsRolloutConfig: { maximumPerMinute: 1000 } }), { jobExecutionsRolloutConfig: { maximumPerMinute: 1000 } });
  });

  it('answers what AWS answers for bad values (messages measured on AWS)', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ timeoutConfig: { inProgressTimeoutInMinutes: 0 } }, 'Provide valid timeout value, inProgressTimeoutInMinutes cannot be 0.'],
      [{ timeoutConfig: { inProgressTimeoutInMinutes: 10081 } }, 'Provide valid timeout value, inProgressTimeoutInMinutes cannot be 10081.'],
      [{ timeoutConfig: {} }, 'Provide valid timeout value, inProgressTimeoutInMinutes cannot be null.'],
      [{ jobExecutionsRolloutConfig: { maximumPerMinute: 0 } }, one('0', 'jobExecutionsRolloutConfig.maximumPerMinute', 'have value greater than or equal to 1')],
      [{ jobExecutionsRolloutConfig: { maximumPerMinute: 1001 } }, one('1001', 'jobExecutionsRolloutConfig.maximumPerMinute', 'have value less than or equal to 1000')],
      [{ jobExecutionsRolloutConfig: {} }, 'Provide MaximumPerMinute value or provide ExponentialRate and MaximumPerMinute'],
      [{ jobExecutionsRolloutConfig: { exponentialRate: rate } }, 'Provide MaximumPerMinute value when ExponentialRate is defined'],
      [withRate({ baseRatePerMinute: 50 }), 'Exponential rollout baseRatePerMinute should be less than maximumPerMinute.'],
      [withRate({ baseRatePerMinute: 20 }), 'Exponential rollout baseRatePerMinute should be less than maximumPerMinute.'],
      [withRate({ incrementFactor: 5.1 }), one('5.1', 'jobExecutionsRolloutConfig.exponentialRate.incrementFactor', 'have value less than or equal to 5')],
      [withRate({ incrementFactor: 1 }), one('1.0', 'jobExecutionsRolloutConfig.exponentialRate.incrementFactor', 'have value greater than or equal to 1.1')],
      [withRate({ rateIncreaseCriteria: {} }), 'Provide either NumberOfNotifiedThings or NumberOfSucceededThings when RateIncreaseCriteria is defined'],
      [
        withRate({ rateIncreaseCriteria: { numberOfNotifiedThings: 10, numberOfSucceededThings: 5 } }),
        'Provide only one of NumberOfNotifiedThings or NumberOfSucceededThings when RateIncreaseCriteria is defined',
      ],
      [
        { abortConfig: { criteriaList: [{ failureType: 'BAD', action: 'CANCEL', thresholdPercentage: 50, minNumberOfExecutedThings: 3 }] } },
        one('BAD', `${ABORT}.failureType`, 'satisfy enum value set: [ALL, TIMED_OUT, FAILED, REJECTED]'),
      ],
      [
        { abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 101, minNumberOfExecutedThings: 3 }] } },
        one('101.0', `${ABORT}.thresholdPercentage`, 'have value less than or equal to 100'),
      ],
      [{ abortConfig: { criteriaList: [] } }, one('[]', 'abortConfig.criteriaList', 'have length greater than or equal to 1')],
      [
        { jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'REJECTED', numberOfRetries: 0 }] } },
        one('REJECTED', `${RETRY}.failureType`, 'satisfy enum value set: [ALL, TIMED_OUT, FAILED]'),
      ],
      [
        { jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 11 }] } },
        one('11', `${RETRY}.numberOfRetries`, 'have value less than or equal to 10'),
      ],
      [
        { jobExecutionsRetryConfig: { criteriaList: ['FAILED', 'TIMED_OUT', 'ALL'].map((t) => ({ failureType: t, numberOfRetries: 1 })) } },
        one(
          '[RetryCriteria(failureType=FAILED, numberOfRetries=1), RetryCriteria(failureType=TIMED_OUT, numberOfRetries=1), RetryCriteria(failureType=ALL, numberOfRetries=1)]',
          'jobExecutionsRetryConfig.criteriaList',
          'have length less than or equal to 2',
        ),
      ],
      [{ presignedUrlConfig: { roleArn: ROLE, expiresInSec: 59 } }, one('59', 'presignedUrlConfig.expiresInSec', 'have value greater than or equal to 60')],
      [{ presignedUrlConfig: { roleArn: 'short', expiresInSec: 600 } }, 'Given role short is invalid.'],
      [
        { jobExecutionsRolloutConfig: { maximumPerMinute: 0 }, presignedUrlConfig: { roleArn: ROLE, expiresInSec: 59 } },
        "2 validation errors detected: Value '0' at 'jobExecutionsRolloutConfig.maximumPerMinute' failed to satisfy constraint: " +
          "Member must have value greater than or equal to 1; Value '59' at 'presignedUrlConfig.expiresInSec' failed to satisfy constraint: " +
          'Member must have value greater than or equal to 60',
      ],
      [
        // The same order whatever order the request sends the members in.
        {
          abortConfig: { criteriaList: [{ minNumberOfExecutedThings: 3, thresholdPercentage: 50, failureType: 'BAD', action: 'CANCEL' }] },
          presignedUrlConfig: { roleArn: ROLE, expiresInSec: 59 },
          jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 11 }] },
          jobExecutionsRolloutConfig: { maximumPerMinute: 0 },
        },
        '4 validation errors detected: ' +
          [
            clause('0', 'jobExecutionsRolloutConfig.maximumPerMinute', 'have value greater than or equal to 1'),
            clause('59', 'presignedUrlConfig.expiresInSec', 'have value greater than or equal to 60'),
            clause('11', `${RETRY}.numberOfRetries`, 'have value less than or equal to 10'),
            clause('BAD', `${ABORT}.failureType`, 'satisfy enum value set: [ALL, TIMED_OUT, FAILED, REJECTED]'),
          ].join('; '),
      ],
      [
        { abortConfig: { criteriaList: [{ failureType: 'BAD', action: 'BAD', thresholdPercentage: 101, minNumberOfExecutedThings: 0 }] } },
        '4 validation errors detected: ' +
          [
            clause('0', `${ABORT}.minNumberOfExecutedThings`, 'have value greater than or equal to 1'),
            clause('BAD', `${ABORT}.failureType`, 'satisfy enum value set: [ALL, TIMED_OUT, FAILED, REJECTED]'),
            clause('BAD', `${ABORT}.action`, 'satisfy enum value set: [CANCEL]'),
            clause('101.0', `${ABORT}.thresholdPercentage`, 'have value less than or equal to 100'),
          ].join('; '),
      ],
    ];
    for (const [input, message] of cases) assert.equal(check(input), message, JSON.stringify(input));
  });

  it('reports member constraints before business rules', () => {
    // A timeout rule and a member constraint: the constraint wins.
    assert.equal(
      check({ timeoutConfig: { inProgressTimeoutInMinutes: 0 }, presignedUrlConfig: { expiresInSec: 4000 } }),
      one('4000', 'presignedUrlConfig.expiresInSec', 'have value less than or equal to 3600'),
    );
    // A constraint the caller found first also hides business rules.
    const errors = new FieldErrors('InvalidRequestException');
    errors.add('bad.id', 'jobId', 'satisfy regular expression pattern: [a-zA-Z0-9_-]+');
    checkJobConfigs(errors, { jobExecutionsRolloutConfig: {} }, NOW, JOB);
    assert.equal(errors.messages.length, 1);
  });

  it('checks types, decimals and required members', () => {
    assert.equal(check({ timeoutConfig: 'soon' }), one('soon', 'timeoutConfig', 'be a structure'));
    assert.equal(check({ timeoutConfig: { inProgressTimeoutInMinutes: 'x' } }), one('x', 'timeoutConfig.inProgressTimeoutInMinutes', 'be a number'));
    assert.equal(check({ timeoutConfig: { inProgressTimeoutInMinutes: 1.5 } }), 'Provide valid timeout value, inProgressTimeoutInMinutes cannot be 1.5.');
    assert.equal(check(withRate({ incrementFactor: 1.25 })), one('1.25', 'jobExecutionsRolloutConfig.exponentialRate.incrementFactor', 'have at most one digit after the decimal point'));
    assert.equal(
      check({ abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 10.125, minNumberOfExecutedThings: 1 }] } }),
      one('10.125', `${ABORT}.thresholdPercentage`, 'have at most 2 digits after the decimal point'),
    );
    assert.equal(check(withRate({ baseRatePerMinute: undefined })), one('null', 'jobExecutionsRolloutConfig.exponentialRate.baseRatePerMinute', 'not be null').replace("Value 'null'", 'Value null'));
    assert.equal(check({ jobExecutionsRetryConfig: {} }), '1 validation error detected: Value null at \'jobExecutionsRetryConfig.criteriaList\' failed to satisfy constraint: Member must not be null');
    assert.equal(check({ presignedUrlConfig: { roleArn: 7 } }), one('7', 'presignedUrlConfig.roleArn', 'be a string'));
    assert.equal(check({ presignedUrlConfig: { roleArn: 'arn:aws:iot:us-east-1:123456789012:thing/not-a-role' } }), 'Given role arn:aws:iot:us-east-1:123456789012:thing/not-a-role is invalid.');
    // incrementFactor and thresholdPercentage stay numbers as given.
    const out = check({ ...withRate({ incrementFactor: 2.5 }), abortConfig: { criteriaList: [{ failureType: 'REJECTED', action: 'CANCEL', thresholdPercentage: 12.25, minNumberOfExecutedThings: 1 }] } }) as JobConfigs;
    assert.equal(out.jobExecutionsRolloutConfig?.exponentialRate?.incrementFactor, 2.5);
    assert.equal(out.abortConfig?.criteriaList[0].thresholdPercentage, 12.25);
  });

  it('applies the retry rules', () => {
    const retry = (...c: [string, number][]) => ({ jobExecutionsRetryConfig: { criteriaList: c.map(([failureType, numberOfRetries]) => ({ failureType, numberOfRetries })) } });
    assert.equal(check(retry(['FAILED', 1], ['ALL', 1])), 'A retryCriteria with failure type ALL must be used by itself.');
    assert.equal(check(retry(['FAILED', 1], ['FAILED', 2])), 'Each failure type can be used only once in RetryConfig.');
    assert.equal(
      check({ ...retry(['FAILED', 6], ['TIMED_OUT', 5]), timeoutConfig: { inProgressTimeoutInMinutes: 5 } }),
      'The total number of retries for all failure types cannot be more than 10.',
    );
    assert.equal(check(retry(['TIMED_OUT', 1])), 'TimeoutConfig must be specified to retry job executions that fail with failure type TIMED_OUT.');
    assert.deepEqual(check({ ...retry(['TIMED_OUT', 5], ['FAILED', 5]), timeoutConfig: { inProgressTimeoutInMinutes: 5 } }), {
      ...retry(['TIMED_OUT', 5], ['FAILED', 5]),
      timeoutConfig: { inProgressTimeoutInMinutes: 5 },
    });
    // A template's timeout, and updates, satisfy the TIMED_OUT rule.
    assert.deepEqual(check(retry(['TIMED_OUT', 1]), { forTemplate: false, inheritedTimeoutConfig: { inProgressTimeoutInMinutes: 3 } }), retry(['TIMED_OUT', 1]));
    assert.deepEqual(check(retry(['TIMED_OUT', 0]), { forTemplate: false, forUpdate: true }), retry(['TIMED_OUT', 0]));
    assert.deepEqual(check(retry(['ALL', 10])), retry(['ALL', 10]));
  });

  it('validates schedulingConfig against the clock', () => {
    const sched = (s: Record<string, unknown>) => check({ schedulingConfig: s });
    const min = 60_000;
    const t = (ms: number) => new Date(NOW + ms).toISOString().slice(0, 16);
    assert.deepEqual(sched({ startTime: t(30 * min) }), { schedulingConfig: { startTime: t(30 * min) } });
    assert.match(sched({ startTime: t(29 * min) }) as string, /^The startTime .* must be at least 30 minutes after the current time\.$/);
    assert.match(sched({ startTime: t(366 * 24 * 60 * min) }) as string, /cannot be more than 1 year after the current time/);
    assert.match(sched({ endTime: t(10 * min) }) as string, /The endTime .* must be at least 30 minutes after the current time/);
    assert.match(sched({ endTime: t(731 * 24 * 60 * min) }) as string, /cannot be more than 2 years after the current time/);
    assert.match(sched({ startTime: t(60 * min), endTime: t(80 * min) }) as string, /must be at least 30 minutes after the startTime/);
    assert.deepEqual(sched({ startTime: t(60 * min), endTime: t(90 * min), endBehavior: 'FORCE_CANCEL' }), {
      schedulingConfig: { startTime: t(60 * min), endTime: t(90 * min), endBehavior: 'FORCE_CANCEL' },
    });
    assert.match(sched({ startTime: 'next tuesday' }) as string, /^The startTime next tuesday is not a valid date and time/);
    assert.equal(sched({ endBehavior: 'STOP' }), one('STOP', 'schedulingConfig.endBehavior', 'satisfy enum value set: [STOP_ROLLOUT, CANCEL, FORCE_CANCEL]'));
    assert.equal(sched({ startTime: 'x'.repeat(65) }), one('x'.repeat(65), 'schedulingConfig.startTime', 'have length less than or equal to 64'));
    // With a zone, the instant counts: 10:00+02:00 is 08:00 UTC.
    assert.deepEqual(schedulingTimes({ startTime: '2026-06-01T10:00+02:00', endTime: '2026-06-02T00:00' }), {
      startMs: Date.UTC(2026, 5, 1, 8),
      endMs: Date.UTC(2026, 5, 2),
    });
  });

  it('validates maintenance windows (schedulingConfig for jobs, top level for templates)', () => {
    const w = (startTime: unknown, durationInMinutes: unknown) => ({ startTime, durationInMinutes });
    assert.deepEqual(check({ schedulingConfig: { maintenanceWindows: [w('cron(0 2 ? * MON *)', 1430)] } }), {
      schedulingConfig: { maintenanceWindows: [w('cron(0 2 ? * MON *)', 1430)] },
    });
    assert.equal(
      check({ schedulingConfig: { maintenanceWindows: [w('cron(0 2 ? * MON *)', 1431)] } }),
      one('1431', 'schedulingConfig.maintenanceWindows.1.member.durationInMinutes', 'have value less than or equal to 1430'),
    );
    assert.equal(
      check({ schedulingConfig: { maintenanceWindows: [w('cron(0 2 * * MON *)', 60)] } }),
      'The maintenance window startTime cron(0 2 * * MON *) is not a valid cron expression: exactly one of day-of-month and day-of-week must be ?.',
    );
    assert.equal(
      check({ maintenanceWindows: [w(undefined, 60)] }, { forTemplate: true }),
      "1 validation error detected: Value null at 'maintenanceWindows.1.member.startTime' failed to satisfy constraint: Member must not be null",
    );
    assert.deepEqual(check({ maintenanceWindows: [w('cron(0 2 ? * MON *)', 60)] }, { forTemplate: true }), { maintenanceWindows: [w('cron(0 2 ? * MON *)', 60)] });
    // Not members of the other operation: ignored like any unknown member.
    assert.deepEqual(check({ maintenanceWindows: [w('junk', 0)] }), {});
    assert.deepEqual(check({ schedulingConfig: { startTime: 'junk' } }, { forTemplate: true }), {});
  });

  it('refuses maintenance windows on SNAPSHOT jobs', () => {
    const windows = [{ startTime: 'cron(0 2 ? * MON *)', durationInMinutes: 60 }];
    const message = 'TargetSelection is invalid. MaintenanceWindow cannot be used with SNAPSHOT job.';
    assert.equal(maintenanceWindowTargetProblem('SNAPSHOT', windows), message);
    assert.equal(maintenanceWindowTargetProblem('CONTINUOUS', windows), undefined);
    assert.equal(maintenanceWindowTargetProblem('SNAPSHOT', []), undefined);
    assert.equal(maintenanceWindowTargetProblem('SNAPSHOT', undefined), undefined);
    assert.throws(() => assertMaintenanceWindowsAllowed('SNAPSHOT', windows), (e: DomainError) => e.errorName === 'InvalidRequestException' && e.message === message);
    assert.doesNotThrow(() => assertMaintenanceWindowsAllowed('CONTINUOUS', windows));
  });
});

describe('checkRetryConfigUpdate (UpdateJob, messages measured on AWS)', () => {
  const retry = (...c: [string, number][]) => ({ criteriaList: c.map(([failureType, numberOfRetries]) => ({ failureType, numberOfRetries })) }) as never;
  const single = retry(['FAILED', 2]);
  const both = retry(['FAILED', 2], ['TIMED_OUT', 3]);
  const refused = (existing: never | undefined, update: never, message: string) =>
    assert.throws(() => checkRetryConfigUpdate(existing, update), (e: DomainError) => e.errorName === 'InvalidRequestException' && e.message === message);

  it('only lowers retries to 0 for the failure types the job has', () => {
    refused(undefined, retry(['FAILED', 2]), 'The number of retries cannot be updated to any number other than 0.');
    refused(undefined, retry(['FAILED', 0]), 'RetryConfig cannot be updated if the job has no RetryConfig defined during creation.');
    refused(both, retry(['FAILED', 1]), 'The number of retries cannot be updated to any number other than 0.');
    refused(single, retry(['TIMED_OUT', 0]), 'FailureTypes must match existing FailureTypes defined in RetryConfig.');
    refused(single, retry(['FAILED', 0], ['TIMED_OUT', 0]), 'FailureTypes must match existing FailureTypes defined in RetryConfig.');
    refused(both, retry(['FAILED', 0]), 'FailureTypes must match existing FailureTypes defined in RetryConfig.');
    refused(both, retry(['FAILED', 0], ['ALL', 0]), 'A retryCriteria with failure type ALL must be used by itself.');
    assert.doesNotThrow(() => checkRetryConfigUpdate(both, retry(['TIMED_OUT', 0], ['FAILED', 0])));
    assert.doesNotThrow(() => checkRetryConfigUpdate(single, retry(['FAILED', 0])));
  });
});

describe('checkDestinationPackageVersions', () => {
  const arn = (v: string) => `arn:aws:iot:us-east-1:123456789012:package/pkg/version/${v}`;
  it('accepts up to 25 package version ARNs', () => {
    const errors = new FieldErrors('InvalidRequestException');
    const list = Array.from({ length: 25 }, (_, i) => arn(`1.0.${i}`));
    assert.deepEqual(checkDestinationPackageVersions(errors, list), list);
    assert.deepEqual(checkDestinationPackageVersions(errors, [arn('$default'), arn('$null')]), [arn('$default'), arn('$null')]);
    assert.equal(checkDestinationPackageVersions(errors, undefined), undefined);
    assert.equal(errors.any, false);
  });

  it('refuses too many, non-ARNs and non-strings', () => {
    const errors = new FieldErrors('InvalidRequestException');
    assert.equal(checkDestinationPackageVersions(errors, Array.from({ length: 26 }, (_, i) => arn(`${i}`))), undefined);
    assert.match(errors.messages[0], /at 'destinationPackageVersions' failed to satisfy constraint: Member must have length less than or equal to 25$/);
    const e2 = new FieldErrors('InvalidRequestException');
    assert.equal(checkDestinationPackageVersions(e2, [arn('1'), 'pkg/1.0', 5, 'arn:has space']), undefined);
    assert.deepEqual(e2.messages, [
      "Value 'pkg/1.0' at 'destinationPackageVersions.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:[!-~]+$",
      "Value '5' at 'destinationPackageVersions.3.member' failed to satisfy constraint: Member must be a string",
      "Value 'arn:has space' at 'destinationPackageVersions.4.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:[!-~]+$",
    ]);
    const e3 = new FieldErrors('InvalidRequestException');
    checkDestinationPackageVersions(e3, 'arn:x');
    assert.match(e3.messages[0], /Member must be a list/);
  });
});
