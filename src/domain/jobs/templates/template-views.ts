import type { JobTemplateRow } from '../../../store/job-templates.js';
import { parseJson } from '../../json.js';
import type { JobConfigs, MaintenanceWindow } from '../job-config-rules.js';
import { managedTemplateArn, type ManagedJobTemplate } from './managed-templates.js';

/** A stored custom template, with its JSON columns read back. */
export interface StoredTemplate extends Omit<JobConfigs, 'schedulingConfig'> {
  jobTemplateId: string;
  description: string;
  document?: string;
  documentSource?: string;
  maintenanceWindows?: MaintenanceWindow[];
  destinationPackageVersions?: string[];
  createdAt: number;
}

export function readTemplate(row: JobTemplateRow): StoredTemplate {
  const t: StoredTemplate = { jobTemplateId: row.job_template_id, description: row.description, createdAt: row.created_at };
  if (row.document !== null) t.document = row.document;
  if (row.document_source !== null) t.documentSource = row.document_source;
  const members: [keyof StoredTemplate, string | null][] = [
    ['presignedUrlConfig', row.presigned_url_config],
    ['jobExecutionsRolloutConfig', row.rollout_config],
    ['abortConfig', row.abort_config],
    ['timeoutConfig', row.timeout_config],
    ['jobExecutionsRetryConfig', row.retry_config],
    ['maintenanceWindows', row.maintenance_windows],
    ['destinationPackageVersions', row.destination_package_versions],
  ];
  for (const [member, text] of members) {
    const value = parseJson(text);
    if (value !== undefined) (t as unknown as Record<string, unknown>)[member] = value;
  }
  return t;
}

/**
 * DescribeJobTemplate as AWS answers it (measured): every member present, an unset one as null, and
 * presignedUrlConfig, jobExecutionsRolloutConfig and timeoutConfig always objects whose unset
 * members are null.
 */
export function describeTemplateView(t: StoredTemplate, arn: string) {
  return {
    jobTemplateArn: arn,
    jobTemplateId: t.jobTemplateId,
    description: t.description,
    documentSource: t.documentSource ?? null,
    document: t.document ?? null,
    createdAt: new Date(t.createdAt),
    presignedUrlConfig: { expiresInSec: t.presignedUrlConfig?.expiresInSec ?? null, roleArn: t.presignedUrlConfig?.roleArn ?? null },
    jobExecutionsRolloutConfig: {
      exponentialRate: t.jobExecutionsRolloutConfig?.exponentialRate ?? null,
      maximumPerMinute: t.jobExecutionsRolloutConfig?.maximumPerMinute ?? null,
    },
    abortConfig: t.abortConfig ?? null,
    timeoutConfig: { inProgressTimeoutInMinutes: t.timeoutConfig?.inProgressTimeoutInMinutes ?? null },
    jobExecutionsRetryConfig: t.jobExecutionsRetryConfig ?? null,
    maintenanceWindows: t.maintenanceWindows ?? null,
    destinationPackageVersions: t.destinationPackageVersions ?? null,
  };
}

export function managedTemplateSummary(partition: string, region: string, t: ManagedJobTemplate) {
  return {
    templateArn: managedTemplateArn(partition, region, t),
    templateName: t.templateName,
    description: t.description,
    environments: [...t.environments],
    templateVersion: t.templateVersion,
  };
}

export function describeManagedTemplateView(partition: string, region: string, t: ManagedJobTemplate) {
  return {
    templateName: t.templateName,
    templateArn: managedTemplateArn(partition, region, t),
    description: t.description,
    templateVersion: t.templateVersion,
    environments: [...t.environments],
    documentParameters: t.documentParameters.map((p) => ({ ...p })),
    document: t.document,
  };
}
