import { CreateBillingGroupCommand, CreateJobCommand, CreateJobTemplateCommand, CreatePackageCommand, CreatePackageVersionCommand } from '@aws-sdk/client-iot';
import { groupArn, seedGroup } from '../support/jobs.js';
import { putTestObject } from '../support/s3.js';
import type { TestServer } from '../support/server.js';
import { SEEDED } from './mutations.js';

/** The resources the fuzzed requests name most often, so that many of them reach the domain. */
export async function seedFuzzTargets(t: TestServer): Promise<void> {
  await seedGroup(t, SEEDED.group, [SEEDED.thing, SEEDED.thing2]);
  await t.iot.send(new CreatePackageCommand({ packageName: SEEDED.package }));
  await t.iot.send(new CreatePackageVersionCommand({ packageName: SEEDED.package, versionName: SEEDED.version }));
  await t.iot.send(new CreateJobCommand({ jobId: SEEDED.job, targets: [groupArn(SEEDED.group)], document: '{"step":"install"}' }));
  await t.iot.send(new CreateJobTemplateCommand({ jobTemplateId: SEEDED.template, description: 'fuzz', document: '{}' }));
  await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: SEEDED.billingGroup }));
  await putTestObject(t, SEEDED.bucket, SEEDED.key, 'object bytes');
}
