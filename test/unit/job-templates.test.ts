import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import { validateJobDocument } from '../../src/domain/jobs/job-document.js';
import { templateFromJob } from '../../src/domain/jobs/templates/job-template-service.js';
import { effectiveParameters } from '../../src/domain/jobs/templates/managed-template-service.js';
import { findManagedTemplate, MANAGED_JOB_TEMPLATES, managedTemplateArn, parameterPattern } from '../../src/domain/jobs/templates/managed-templates.js';
import { jobControlPlaneJson } from '../../src/protocol/iot/job-config-json.js';
import type { JobRow } from '../../src/store/jobs.js';

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof DomainError && e.errorName === 'InvalidRequestException' && message.test(e.message));

describe('AWS managed template catalogue', () => {
  it('has every template at version 1.0, on LINUX, with valid documents using only its parameters', () => {
    assert.equal(MANAGED_JOB_TEMPLATES.length, 9);
    for (const t of MANAGED_JOB_TEMPLATES) {
      assert.equal(t.templateVersion, '1.0');
      assert.deepEqual(t.environments, ['LINUX']);
      validateJobDocument(t.document);
      const used = [...t.document.matchAll(/\$\{aws:iot:parameter:([^}]+)\}/g)].map((m) => m[1]);
      const keys = t.documentParameters.map((p) => p.key);
      for (const key of used) assert.ok(keys.includes(key), `${t.templateName} uses ${key}`);
      assert.deepEqual(keys.slice(-2), ['runAsUser', 'pathToHandler']);
      for (const p of t.documentParameters) assert.ok(parameterPattern(p).test(p.example), `${t.templateName}.${p.key} example`);
    }
    assert.equal(findManagedTemplate('AWS-Reboot')?.templateName, 'AWS-Reboot');
    assert.equal(findManagedTemplate('AWS-Reboot', '2.0'), undefined);
    assert.equal(managedTemplateArn('aws', 'eu-west-1', findManagedTemplate('AWS-Reboot')!), 'arn:aws:iot:eu-west-1::jobtemplate/AWS-Reboot:1.0');
  });

  it('checks documentParameters and fills optional ones with empty strings', () => {
    const download = findManagedTemplate('AWS-Download-File')!;
    assert.deepEqual(effectiveParameters(download, { downloadUrl: 'https://x/y', filePath: '/tmp/y' }), {
      downloadUrl: 'https://x/y',
      filePath: '/tmp/y',
      runAsUser: '',
      pathToHandler: '',
    });
    assert.deepEqual(effectiveParameters(findManagedTemplate('AWS-Reboot')!, undefined), { runAsUser: '', pathToHandler: '' });
    assert.deepEqual(effectiveParameters(findManagedTemplate('AWS-Reboot')!, { runAsUser: 'root' }), { runAsUser: 'root', pathToHandler: '' });
    refused(() => effectiveParameters(download, { downloadUrl: 'u' }), /^Document parameter filePath is required by managed template AWS-Download-File\.$/);
    refused(() => effectiveParameters(download, { downloadUrl: 'u', filePath: 'p', other: 'x' }), /^Document parameter other is not a parameter of managed template AWS-Download-File\.$/);
    // Regexes are full matches, and `.` does not match a line break (as in Java).
    refused(() => effectiveParameters(download, { downloadUrl: 'u', filePath: 'p', runAsUser: 'a'.repeat(257) }), /runAsUser.*\(\.\)\{0,256\}$/);
    refused(() => effectiveParameters(download, { downloadUrl: 'line\nbreak', filePath: 'p' }), /downloadUrl/);
    assert.ok(effectiveParameters(findManagedTemplate('AWS-Config-Update')!, { configFilePath: '/etc/a', configFileContents: 'a=1\nb=2' }));
  });
});

describe('templateFromJob', () => {
  const job = (over: Partial<JobRow>): JobRow =>
    ({
      job_id: 'j',
      document: null,
      raw_document: null,
      document_source: null,
      document_parameters: null,
      presigned_url_config: null,
      rollout_config: null,
      abort_config: null,
      timeout_config: null,
      retry_config: null,
      scheduling_config: null,
      destination_package_versions: null,
      ...over,
    }) as JobRow;
  const arn = (d: { packageName: string; requestedVersionName: string }) => `arn:aws:iot:us-east-1:1:package/${d.packageName}/version/${d.requestedVersionName}`;

  it('keeps package placeholders and requested versions, substitutes managed-template parameters', () => {
    const raw = JSON.stringify({ a: '${aws:iot:parameter:downloadUrl}', b: '${aws:iot:package:p:version:$default:attributes}' });
    const out = templateFromJob(
      job({
        raw_document: raw,
        document: '{"resolved":true}',
        document_parameters: JSON.stringify({ downloadUrl: 'https://x' }),
        timeout_config: JSON.stringify({ inProgressTimeoutInMinutes: 5 }),
        scheduling_config: JSON.stringify({ startTime: '2030-01-01T00:00', maintenanceWindows: [{ startTime: 'cron(0 0 ? * MON *)', durationInMinutes: 5 }] }),
        destination_package_versions: JSON.stringify([{ packageName: 'p', versionName: '1.0', requestedVersionName: '$default', attributes: {} }]),
      }),
      arn,
    );
    assert.deepEqual(out, {
      document: JSON.stringify({ a: 'https://x', b: '${aws:iot:package:p:version:$default:attributes}' }),
      timeoutConfig: { inProgressTimeoutInMinutes: 5 },
      maintenanceWindows: [{ startTime: 'cron(0 0 ? * MON *)', durationInMinutes: 5 }],
      destinationPackageVersions: ['arn:aws:iot:us-east-1:1:package/p/version/$default'],
    });
    assert.deepEqual(templateFromJob(job({ document_source: 'https://s3.amazonaws.com/b/k' }), arn), { documentSource: 'https://s3.amazonaws.com/b/k' });
  });
});

describe('jobControlPlaneJson', () => {
  it('writes incrementFactor and thresholdPercentage with a fraction, and nothing else', () => {
    const out = jobControlPlaneJson({
      rollout: { exponentialRate: { incrementFactor: 2, baseRatePerMinute: 5 } },
      abort: { criteriaList: [{ thresholdPercentage: 50 }, { thresholdPercentage: 12.5 }] },
      document: JSON.stringify({ incrementFactor: 3 }),
      at: new Date(1_700_000_000_500),
    });
    assert.equal(
      out.rawBody,
      '{"rollout":{"exponentialRate":{"incrementFactor":2.0,"baseRatePerMinute":5}},"abort":{"criteriaList":[{"thresholdPercentage":50.0},{"thresholdPercentage":12.5}]},' +
        '"document":"{\\"incrementFactor\\":3}","at":1700000000.5}',
    );
  });
});
