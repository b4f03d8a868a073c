import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    job_templates: JobTemplateRow;
  }
}

export interface JobTemplateRow {
  job_template_id: string;
  description: string;
  document: string | null;
  document_source: string | null;
  /** JSON PresignedUrlConfig. */
  presigned_url_config: string | null;
  /** JSON JobExecutionsRolloutConfig. */
  rollout_config: string | null;
  /** JSON AbortConfig. */
  abort_config: string | null;
  /** JSON TimeoutConfig. */
  timeout_config: string | null;
  /** JSON JobExecutionsRetryConfig. */
  retry_config: string | null;
  /** JSON MaintenanceWindow[]. */
  maintenance_windows: string | null;
  /** JSON array of package version ARNs, as given. */
  destination_package_versions: string | null;
  created_at: number;
}

/** Custom job templates. */
export class JobTemplateStore {
  constructor(private readonly db: Kysely<Database>) {}

  get(id: string): Promise<JobTemplateRow | undefined> {
    return this.db.selectFrom('job_templates').selectAll().where('job_template_id', '=', id).executeTakeFirst();
  }

  /** False when a template with this id exists already (also when a concurrent create won). */
  async insert(row: JobTemplateRow): Promise<boolean> {
    const result = await this.db
      .insertInto('job_templates')
      .values(row)
      .onConflict((oc) => oc.column('job_template_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** True when a template was deleted. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('job_templates').where('job_template_id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Newest first; keyset on (created_at, job_template_id) descending. */
  list(before: { createdAt: number; id: string } | undefined, limit: number): Promise<Pick<JobTemplateRow, 'job_template_id' | 'description' | 'created_at'>[]> {
    let q = this.db
      .selectFrom('job_templates')
      .select(['job_template_id', 'description', 'created_at'])
      .orderBy('created_at', 'desc')
      .orderBy('job_template_id', 'desc')
      .limit(limit);
    if (before) {
      q = q.where((eb) =>
        eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('job_template_id', '<', before.id)])]),
      );
    }
    return q.execute();
  }
}
