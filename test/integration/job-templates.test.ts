import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateJobCommand,
  CreateJobTemplateCommand,
  CreateThingCommand,
  DeleteJobTemplateCommand,
  DescribeJobCommand,
  DescribeJobTemplateCommand,
  DescribeManagedJobTemplateCommand,
  GetJobDocumentCommand,
  ListJobTemplatesCommand,
  ListManagedJobTemplatesCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type CreateJobTemplateCommandInput,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const DOCUMENT = JSON.stringify({ operation: 'reboot', when: 'now' });
const ROLE = `arn:aws:iam::${ACCOUNT}:role/presign`;
const CONFIG = {
  presignedUrlConfig: { roleArn: ROLE, expiresInSec: 300 },
  jobExecutionsRolloutConfig: {
    maximumPerMinute: 50,
    exponentialRate: { baseRatePerMinute: 5, incrementFactor: 2, rateIncreaseCriteria: { numberOfNotifiedThings: 10 } },
  },
  abortConfig: { criteriaList: [{ failureType: 'FAILED' as const, action: 'CANCEL' as const, thresholdPercentage: 50, minNumberOfExecutedThings: 5 }] },
  timeoutConfig: { inProgressTimeoutInMinutes: 30 },
  jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED' as const, numberOfRetries: 2 }] },
};
const templateArn = (id: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:jobtemplate/${id}`;
const managedArn = (name: string) => `arn:aws:iot:${REGION}::jobtemplate/${name}:1.0`;
const MANAGED_NAMES = [
  'AWS-Config-Update',
  'AWS-Download-File',
  'AWS-Install-Application',
  'AWS-Reboot',
  'AWS-Remove-Application',
  'AWS-Restart-Application',
  'AWS-Run-Command',
  'AWS-Start-Application',
  'AWS-Stop-Application',
];

for (const backend of await testBackends()) {
  describe(`job templates (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let thingArn: string;
    const raw = (method: string, path: string, body?: unknown, query?: Record<string, string>) =>
      sendSigned(t.url, { method, path, query, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const create = (id: string, input: Omit<CreateJobTemplateCommandInput, 'jobTemplateId'>) =>
      t.iot.send(new CreateJobTemplateCommand({ jobTemplateId: id, ...input }));

    before(async () => {
      t = await startTestServer(backend);
      thingArn = (await t.iot.send(new CreateThingCommand({ thingName: 'tmpl-thing' }))).thingArn!;
    });
    after(async () => t?.close());

    it('creates, describes, lists (newest first) and deletes custom templates', async () => {
      const created = await create('full', { description: 'full', document: DOCUMENT, tags: [{ Key: 'k', Value: 'v' }], ...CONFIG });
      assert.deepEqual({ ...created, $metadata: undefined }, { jobTemplateArn: templateArn('full'), jobTemplateId: 'full', $metadata: undefined });

      const desc = await t.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'full' }));
      assert.equal(desc.jobTemplateArn, templateArn('full'));
      assert.equal(desc.description, 'full');
      assert.equal(desc.document, DOCUMENT);
      assert.ok(desc.createdAt instanceof Date);
      assert.equal(desc.createdAt.getTime(), t.clock.now());
      assert.deepEqual(desc.presignedUrlConfig, CONFIG.presignedUrlConfig);
      assert.deepEqual(desc.jobExecutionsRolloutConfig, CONFIG.jobExecutionsRolloutConfig);
      assert.deepEqual(desc.abortConfig, CONFIG.abortConfig);
      assert.deepEqual(desc.timeoutConfig, CONFIG.timeoutConfig);
      assert.deepEqual(desc.jobExecutionsRetryConfig, CONFIG.jobExecutionsRetryConfig);

      // On the wire the two doubles carry a fraction, as AWS writes them.
      const wire = await raw('GET', '/job-templates/full');
      assert.equal(wire.status, 200);
      assert.match(wire.text, /"incrementFactor":2\.0[,}]/);
      assert.match(wire.text, /"thresholdPercentage":50\.0[,}]/);

      t.clock.advance(1000);
      await create('minimal', { description: 'minimal', document: DOCUMENT });
      // AWS writes every member, an unset one as null, and three structures as objects of nulls.
      const minimal = await raw('GET', '/job-templates/minimal');
      assert.equal(minimal.status, 200);
      const body = minimal.json!;
      for (const member of ['abortConfig', 'documentSource', 'maintenanceWindows', 'jobExecutionsRetryConfig', 'destinationPackageVersions']) {
        assert.ok(member in body && body[member] === null, member);
      }
      assert.deepEqual(body.timeoutConfig, { inProgressTimeoutInMinutes: null });
      assert.deepEqual(body.presignedUrlConfig, { expiresInSec: null, roleArn: null });
      assert.deepEqual(body.jobExecutionsRolloutConfig, { exponentialRate: null, maximumPerMinute: null });
      assert.equal(typeof body.createdAt, 'number');

      t.clock.advance(1000);
      await create('third', { description: 'third', documentSource: 'https://s3.amazonaws.com/bucket/doc.json' });
      assert.equal((await t.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'third' }))).documentSource, 'https://s3.amazonaws.com/bucket/doc.json');

      // Newest first, one per page, behind an opaque token.
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await t.iot.send(new ListJobTemplatesCommand({ maxResults: 1, nextToken }));
        assert.ok(page.jobTemplates!.length <= 1);
        for (const s of page.jobTemplates!) {
          assert.deepEqual(Object.keys(s).sort(), ['createdAt', 'description', 'jobTemplateArn', 'jobTemplateId']);
          seen.push(s.jobTemplateId!);
        }
        nextToken = page.nextToken;
        pages++;
      } while (nextToken);
      assert.deepEqual(seen, ['third', 'minimal', 'full']);
      assert.equal(pages, 3);
      const all = await t.iot.send(new ListJobTemplatesCommand({}));
      assert.deepEqual(all.jobTemplates!.map((s) => s.jobTemplateId), ['third', 'minimal', 'full']);
      assert.equal(all.nextToken, undefined);

      // Delete answers 200 with an empty body.
      const deleted = await raw('DELETE', '/job-templates/third');
      assert.deepEqual([deleted.status, deleted.text], [200, '']);
      await t.iot.send(new DeleteJobTemplateCommand({ jobTemplateId: 'minimal' }));
      for (const id of ['third', 'minimal']) {
        await expectAwsError(t.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: id })), 'ResourceNotFoundException', {
          message: `Job Template ${id} cannot be found.`,
          status: 404,
        });
        await expectAwsError(t.iot.send(new DeleteJobTemplateCommand({ jobTemplateId: id })), 'ResourceNotFoundException', { message: `Job Template ${id} cannot be found.` });
      }
      assert.deepEqual((await t.iot.send(new ListJobTemplatesCommand({}))).jobTemplates!.map((s) => s.jobTemplateId), ['full']);
      await t.iot.send(new DeleteJobTemplateCommand({ jobTemplateId: 'full' }));
    });

    it('rejects what AWS rejects, with its messages', async () => {
      await create('dup', { description: 'd', document: DOCUMENT });
      const dup = await expectAwsError(create('dup', { description: 'd', document: DOCUMENT }), 'ConflictException', { status: 409 });
      assert.equal(dup.message, 'Job Template dup already exists.');
      assert.equal(dup.resourceId, 'dup');

      const cases: [Record<string, unknown>, string][] = [
        [{ description: 'd', document: '{}', documentSource: 'https://x/y' }, 'Job document and job document source cannot be specified at the same time.'],
        [{ description: 'd' }, 'Neither job document nor job document source is specified.'],
        [{ document: '{}' }, "1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null"],
        [{ description: 'd', document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 0 } }, 'Provide valid timeout value, inProgressTimeoutInMinutes cannot be 0.'],
        [{ description: 'd', document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 10081 } }, 'Provide valid timeout value, inProgressTimeoutInMinutes cannot be 10081.'],
        [{ description: 'd', document: '{}', jobExecutionsRolloutConfig: {} }, 'Provide MaximumPerMinute value or provide ExponentialRate and MaximumPerMinute'],
        [
          { description: 'd', document: '{}', jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] } },
          'TimeoutConfig must be specified to retry job executions that fail with failure type TIMED_OUT.',
        ],
        [
          { description: 'd', document: '{}', maintenanceWindows: [{ startTime: 'cron(0 2 * * MON *)', durationInMinutes: 60 }] },
          'The maintenance window startTime cron(0 2 * * MON *) is not a valid cron expression: exactly one of day-of-month and day-of-week must be ?.',
        ],
        [
          { description: 'd', document: '{}', maintenanceWindows: [{ startTime: 'cron(0 2 ? * MON *)', durationInMinutes: 0 }] },
          "1 validation error detected: Value '0' at 'maintenanceWindows.1.member.durationInMinutes' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ],
        [{ description: 'd', document: 'not json' }, 'The job document must be a valid JSON object.'],
        [{ description: 'd', document: '{"a":"${aws:iot:parameter:x"}' }, 'One or more parameters or placeholders are not terminated.'],
        [
          { description: 'd', document: '{}', destinationPackageVersions: ['not-an-arn'] },
          "1 validation error detected: Value 'not-an-arn' at 'destinationPackageVersions.1.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:[!-~]+$",
        ],
        [{ description: 'a\u0001b', document: '{}' }, "1 validation error detected: Value 'a\u0001b' at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\p{C}]+"],
      ];
      for (const [body, message] of cases) {
        const res = await raw('PUT', '/job-templates/rejected', body);
        assert.deepEqual([res.status, res.json?.message], [400, message], JSON.stringify(body));
        assert.match(String(res.headers['x-amzn-errortype']), /^InvalidRequestException/);
      }
      await expectAwsError(t.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'rejected' })), 'ResourceNotFoundException');

      for (const [badId, constraint] of [
        ['has.dot', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+'],
        ['a'.repeat(65), 'Member must have length less than or equal to 64'],
      ]) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await raw(method, `/job-templates/${badId}`, method === 'PUT' ? { description: 'd', document: '{}' } : undefined);
          assert.deepEqual(
            [res.status, res.json?.message],
            [400, `1 validation error detected: Value '${badId}' at 'jobTemplateId' failed to satisfy constraint: ${constraint}`],
            `${method} ${badId}`,
          );
        }
      }

      for (const [query, message] of [
        [{ maxResults: '0' }, "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"],
        [{ maxResults: '251' }, "1 validation error detected: Value '251' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 250"],
        [{ nextToken: 'garbage' }, 'Next token is invalid.'],
      ] as const) {
        const res = await raw('GET', '/job-templates', undefined, query);
        assert.deepEqual([res.status, res.json?.message], [400, message], JSON.stringify(query));
      }
      // A token of another listing is refused too.
      const managedPage = await t.iot.send(new ListManagedJobTemplatesCommand({ maxResults: 1 }));
      await expectAwsError(t.iot.send(new ListJobTemplatesCommand({ nextToken: managedPage.nextToken })), 'InvalidRequestException', { message: 'Next token is invalid.' });
    });

    it('keeps maintenance windows and destination package versions', async () => {
      const windows = [{ startTime: 'cron(0 2 ? * MON *)', durationInMinutes: 60 }];
      const versions = [`arn:aws:iot:${REGION}:${ACCOUNT}:package/p/version/$default`];
      await create('mw', { description: 'mw', document: DOCUMENT, maintenanceWindows: windows, destinationPackageVersions: versions });
      const desc = await t.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'mw' }));
      assert.deepEqual(desc.maintenanceWindows, windows);
      assert.deepEqual(desc.destinationPackageVersions, versions);
    });

    it('tags templates through the generic tagging API', async () => {
      await create('tagged', { description: 'tagged', document: DOCUMENT, tags: [{ Key: 'team', Value: 'a' }] });
      const arn = templateArn('tagged');
      assert.deepEqual((await t.iot.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [{ Key: 'team', Value: 'a' }]);
      await t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'env', Value: 'prod' }] }));
      await t.iot.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['team'] }));
      assert.deepEqual((await t.iot.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [{ Key: 'env', Value: 'prod' }]);
      await t.iot.send(new DeleteJobTemplateCommand({ jobTemplateId: 'tagged' }));
      await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn: arn })), 'ResourceNotFoundException');
      // A re-created template starts without the old tags.
      await create('tagged', { description: 'again', document: DOCUMENT });
      assert.deepEqual((await t.iot.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, []);
      await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn: templateArn('nope'), tags: [{ Key: 'a', Value: 'b' }] })), 'ResourceNotFoundException');
    });

    it('copies a job into a template; request members replace the job’s', async () => {
      const { jobArn } = await t.iot.send(
        new CreateJobCommand({
          jobId: 'source-job',
          targets: [thingArn],
          document: DOCUMENT,
          description: 'the job',
          timeoutConfig: { inProgressTimeoutInMinutes: 15 },
          jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] },
        }),
      );
      await create('from-job', { description: 'from job', jobArn });
      const desc = await t.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'from-job' }));
      assert.equal(desc.description, 'from job');
      assert.equal(desc.document, DOCUMENT);
      assert.deepEqual(desc.timeoutConfig, { inProgressTimeoutInMinutes: 15 });
      assert.deepEqual(desc.jobExecutionsRetryConfig, { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] });
      assert.equal(desc.abortConfig, undefined);

      await create('from-job-doc', { description: 'd', jobArn, document: '{}', jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] } });
      const withDoc = await t.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'from-job-doc' }));
      assert.equal(withDoc.document, '{}');
      assert.deepEqual(withDoc.timeoutConfig, { inProgressTimeoutInMinutes: 15 });
      assert.deepEqual(withDoc.jobExecutionsRetryConfig, { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] });

      await expectAwsError(create('gone', { description: 'd', jobArn: `${jobArn}-gone` }), 'ResourceNotFoundException', { message: 'Job source-job-gone cannot be found.', status: 404 });
      await expectAwsError(create('gone', { description: 'd', jobArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:job/source-job` }), 'ResourceNotFoundException', {
        message: 'Job source-job cannot be found.',
      });
      await expectAwsError(create('gone', { description: 'd', jobArn: 'source-job' }), 'InvalidRequestException');
    });

    it('gives CreateJob the template’s members, and refuses bad template ARNs', async () => {
      const arn = (await create('for-jobs', { description: 'from template', document: DOCUMENT, ...CONFIG })).jobTemplateArn!;
      await t.iot.send(new CreateJobCommand({ jobId: 'made', targets: [thingArn], jobTemplateArn: arn }));
      const job = (await t.iot.send(new DescribeJobCommand({ jobId: 'made' }))).job!;
      assert.equal(job.jobTemplateArn, arn);
      assert.deepEqual(job.timeoutConfig, { inProgressTimeoutInMinutes: 30 });
      assert.equal(job.presignedUrlConfig?.roleArn, ROLE);
      assert.equal(job.jobExecutionsRolloutConfig?.maximumPerMinute, 50);
      assert.deepEqual(job.jobExecutionsRetryConfig, CONFIG.jobExecutionsRetryConfig);
      assert.equal(job.description, undefined, "the template's description is not inherited");
      assert.equal((await t.iot.send(new GetJobDocumentCommand({ jobId: 'made' }))).document, DOCUMENT);

      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'x1', targets: [thingArn], jobTemplateArn: templateArn('missing') })), 'ResourceNotFoundException', {
        message: 'Job Template missing cannot be found.',
        status: 404,
      });
      await expectAwsError(
        t.iot.send(new CreateJobCommand({ jobId: 'x2', targets: [thingArn], jobTemplateArn: `arn:aws:iot:${REGION}:${ACCOUNT}:job/made` })),
        'InvalidRequestException',
        { message: 'Resource type should be jobtemplate but found invalid resource type job', status: 400 },
      );
      await expectAwsError(
        t.iot.send(new CreateJobCommand({ jobId: 'x3', targets: [thingArn], jobTemplateArn: arn, documentParameters: { a: 'b' } })),
        'InvalidRequestException',
        { message: 'documentParameters can only be used with an AWS managed job template.' },
      );
      await create('snapshot-mw', { description: 'mw', document: DOCUMENT, maintenanceWindows: [{ startTime: 'cron(0 2 ? * MON *)', durationInMinutes: 60 }] });
      await expectAwsError(
        t.iot.send(new CreateJobCommand({ jobId: 'x4', targets: [thingArn], jobTemplateArn: templateArn('snapshot-mw') })),
        'InvalidRequestException',
        { message: 'TargetSelection is invalid. MaintenanceWindow cannot be used with SNAPSHOT job.' },
      );

      // Deleting the template leaves the job made from it alone.
      await t.iot.send(new DeleteJobTemplateCommand({ jobTemplateId: 'for-jobs' }));
      assert.equal((await t.iot.send(new DescribeJobCommand({ jobId: 'made' }))).job!.jobTemplateArn, arn);
    });

    it('creates jobs from AWS managed templates, checking their parameters', async () => {
      await t.iot.send(
        new CreateJobCommand({
          jobId: 'download',
          targets: [thingArn],
          jobTemplateArn: managedArn('AWS-Download-File'),
          documentParameters: { downloadUrl: 'https://example.com/index.html', filePath: '/tmp/"index".html' },
        }),
      );
      const doc = JSON.parse((await t.iot.send(new GetJobDocumentCommand({ jobId: 'download' }))).document!);
      assert.deepEqual(doc.steps[0].action.input.args, ['https://example.com/index.html', '/tmp/"index".html']);
      assert.equal(doc.steps[0].action.input.handler, 'download-file.sh');

      const refused: [Record<string, string> | undefined, string, RegExp][] = [
        [{ downloadUrl: 'https://example.com' }, 'AWS-Download-File', /filePath is required/],
        [{ downloadUrl: 'u', filePath: 'p', extra: 'x' }, 'AWS-Download-File', /extra is not a parameter/],
        [{ downloadUrl: 'u', filePath: 'p', runAsUser: 'x'.repeat(257) }, 'AWS-Download-File', /runAsUser .* must satisfy regular expression pattern: \(\.\)\{0,256\}/],
        [undefined, 'AWS-Install-Application', /packages is required/],
      ];
      for (const [documentParameters, name, message] of refused) {
        await expectAwsError(
          t.iot.send(new CreateJobCommand({ jobId: 'refused', targets: [thingArn], jobTemplateArn: managedArn(name), documentParameters })),
          'InvalidRequestException',
          { message, status: 400 },
        );
      }
      await expectAwsError(
        t.iot.send(new CreateJobCommand({ jobId: 'refused', targets: [thingArn], jobTemplateArn: `arn:aws:iot:${REGION}::jobtemplate/AWS-Reboot:9.0` })),
        'ResourceNotFoundException',
        { message: 'Job Template AWS-Reboot:9.0 cannot be found.' },
      );
      // A managed template's document is the job's: a document or documentSource beside it is refused (decision 0023).
      for (const extra of [{ document: '{"steps":[]}' }, { documentSource: 'https://s3.amazonaws.com/b/doc.json' }]) {
        await expectAwsError(
          t.iot.send(new CreateJobCommand({ jobId: 'refused', targets: [thingArn], jobTemplateArn: managedArn('AWS-Reboot'), ...extra })),
          'InvalidRequestException',
          { message: `A job created from the AWS managed job template ${managedArn('AWS-Reboot')} takes its document from the template`, status: 400 },
        );
      }
      await expectAwsError(t.iot.send(new DescribeJobCommand({ jobId: 'refused' })), 'ResourceNotFoundException');
      await t.iot.send(new CreateJobCommand({ jobId: 'reboot', targets: [thingArn], jobTemplateArn: managedArn('AWS-Reboot') }));
    });

    it('describes and lists the AWS managed templates', async () => {
      const listed = await t.iot.send(new ListManagedJobTemplatesCommand({}));
      assert.deepEqual(listed.managedJobTemplates!.map((m) => m.templateName), MANAGED_NAMES);
      assert.equal(listed.nextToken, undefined);
      for (const m of listed.managedJobTemplates!) {
        assert.equal(m.templateArn, managedArn(m.templateName!));
        assert.equal(m.templateVersion, '1.0');
        assert.deepEqual(m.environments, ['LINUX']);
        assert.ok(m.description!.startsWith('A managed job template for '));
      }
      assert.equal(listed.managedJobTemplates!.find((m) => m.templateName === 'AWS-Reboot')!.description, 'A managed job template for rebooting the device.');

      // Paging, two at a time.
      const paged: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await t.iot.send(new ListManagedJobTemplatesCommand({ maxResults: 2, nextToken }));
        assert.ok(page.managedJobTemplates!.length <= 2);
        paged.push(...page.managedJobTemplates!.map((m) => m.templateName!));
        nextToken = page.nextToken;
      } while (nextToken);
      assert.deepEqual(paged, MANAGED_NAMES);

      const filtered = await t.iot.send(new ListManagedJobTemplatesCommand({ templateName: 'AWS-Reboot' }));
      assert.deepEqual(filtered.managedJobTemplates!.map((m) => m.templateArn), [managedArn('AWS-Reboot')]);
      assert.deepEqual((await t.iot.send(new ListManagedJobTemplatesCommand({ templateName: 'AWS-Nothing' }))).managedJobTemplates, []);

      // AWS-Download-File exactly as the Developer Guide shows it.
      const download = await t.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Download-File' }));
      assert.equal(download.templateArn, managedArn('AWS-Download-File'));
      assert.equal(download.description, 'A managed job template for downloading a file.');
      assert.equal(download.templateVersion, '1.0');
      assert.deepEqual(download.environments, ['LINUX']);
      assert.deepEqual(download.documentParameters, [
        { key: 'downloadUrl', description: 'URL of file to download.', regex: '(.*?)', example: 'http://www.example.com/index.html', optional: false },
        { key: 'filePath', description: 'Path on the device where downloaded file is written.', regex: '(.*?)', example: '/path/to/file', optional: false },
        {
          key: 'runAsUser',
          description: 'Execute handler as another user. If not specified, then handler is executed as the same user as device client.',
          regex: '(.){0,256}',
          example: 'user1',
          optional: true,
        },
        {
          key: 'pathToHandler',
          description: 'Path to handler on the device. If not specified, then device client will use the current working directory.',
          regex: '(.){0,4096}',
          example: '/path/to/handler/script',
          optional: true,
        },
      ]);
      assert.equal(
        download.document,
        '{"version":"1.0","steps":[{"action":{"name":"Download-File","type":"runHandler","input":{"handler":"download-file.sh","args":["${aws:iot:parameter:downloadUrl}","${aws:iot:parameter:filePath}"],"path":"${aws:iot:parameter:pathToHandler}"},"runAsUser":"${aws:iot:parameter:runAsUser}"}}]}',
      );
      const reboot = await t.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Reboot', templateVersion: '1.0' }));
      assert.deepEqual(reboot.documentParameters!.map((p) => p.key), ['runAsUser', 'pathToHandler']);
      const command = await t.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Run-Command' }));
      assert.equal(JSON.parse(command.document!).steps[0].action.type, 'runCommand');

      await expectAwsError(t.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Reboot', templateVersion: '2.0' })), 'ResourceNotFoundException', {
        message: 'Job Template AWS-Reboot:2.0 cannot be found.',
        status: 404,
      });
      await expectAwsError(t.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Nothing' })), 'ResourceNotFoundException', {
        message: 'Job Template AWS-Nothing cannot be found.',
      });
      await expectAwsError(t.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Reboot', templateVersion: 'latest' })), 'InvalidRequestException', {
        message: "1 validation error detected: Value 'latest' at 'templateVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[1-9]+.[0-9]+$",
        status: 400,
      });
      await expectAwsError(t.iot.send(new ListManagedJobTemplatesCommand({ maxResults: 251 })), 'InvalidRequestException', { message: /maxResults/ });
      await expectAwsError(t.iot.send(new ListManagedJobTemplatesCommand({ nextToken: 'garbage' })), 'InvalidRequestException', { message: 'Next token is invalid.' });
    });
  });
}
