import type { Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    policies: PolicyRow;
    policy_versions: PolicyVersionRow;
    policy_targets: PolicyTargetRow;
  }
}

export interface PolicyRow {
  policy_name: string;
  default_version_id: number;
  generation_id: string;
  created_at: number;
  updated_at: number;
}

export interface PolicyVersionRow {
  policy_name: string;
  version_id: number;
  document: string;
  created_at: number;
}

export interface PolicyTargetRow {
  /** A certificate ARN or a thing-group ARN. */
  target: string;
  policy_name: string;
  attached_at: number;
}

/** A policy with its default version's document. */
export type PolicyWithDocument = PolicyRow & { document: string };

/** IoT policies, their versions and their attachments (migration 0018). */
export class PolicyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(name: string): Promise<PolicyRow | undefined> {
    return this.db.selectFrom('policies').selectAll().where('policy_name', '=', name).executeTakeFirst();
  }

  /** Reads and, on PostgreSQL, locks the policy: its versions and attachments change one after another. */
  getForUpdate(name: string): Promise<PolicyRow | undefined> {
    const q = this.db.selectFrom('policies').selectAll().where('policy_name', '=', name);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  /** Reads and, on PostgreSQL, share-locks the policy, so it is not deleted while it is attached. */
  getForShare(name: string): Promise<PolicyRow | undefined> {
    const q = this.db.selectFrom('policies').selectAll().where('policy_name', '=', name);
    return (this.dialect === 'postgres' ? q.forShare() : q).executeTakeFirst();
  }

  /** False when a policy of that name exists already (a concurrent create won). */
  async insert(row: PolicyRow, document: string): Promise<boolean> {
    const result = await this.db.insertInto('policies').values(row).onConflict((oc) => oc.column('policy_name').doNothing()).executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    await this.insertVersion({ policy_name: row.policy_name, version_id: row.default_version_id, document, created_at: row.created_at });
    return true;
  }

  async update(name: string, patch: Partial<Pick<PolicyRow, 'default_version_id' | 'generation_id' | 'updated_at'>>): Promise<void> {
    await this.db.updateTable('policies').set(patch).where('policy_name', '=', name).execute();
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('policy_versions').where('policy_name', '=', name).execute();
    await this.db.deleteFrom('policies').where('policy_name', '=', name).execute();
  }

  /** Policies by name (keyset), ascending or descending. */
  list(after: string | undefined, limit: number, ascending: boolean): Promise<PolicyRow[]> {
    let q = this.db.selectFrom('policies').selectAll().orderBy('policy_name', ascending ? 'asc' : 'desc').limit(limit);
    if (after !== undefined) q = q.where('policy_name', ascending ? '>' : '<', after);
    return q.execute();
  }

  async insertVersion(row: PolicyVersionRow): Promise<void> {
    await this.db.insertInto('policy_versions').values(row).execute();
  }

  getVersion(name: string, versionId: number): Promise<PolicyVersionRow | undefined> {
    return this.db.selectFrom('policy_versions').selectAll().where('policy_name', '=', name).where('version_id', '=', versionId).executeTakeFirst();
  }

  /** Every version of the policy, newest first (there are five at most). */
  versions(name: string): Promise<PolicyVersionRow[]> {
    return this.db.selectFrom('policy_versions').selectAll().where('policy_name', '=', name).orderBy('version_id', 'desc').execute();
  }

  async deleteVersion(name: string, versionId: number): Promise<void> {
    await this.db.deleteFrom('policy_versions').where('policy_name', '=', name).where('version_id', '=', versionId).execute();
  }

  /** False when the policy was attached to the target already. */
  async attach(row: PolicyTargetRow): Promise<boolean> {
    const result = await this.db.insertInto('policy_targets').values(row).onConflict((oc) => oc.columns(['target', 'policy_name']).doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** False when the policy was not attached to the target. */
  async detach(target: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('policy_targets').where('target', '=', target).where('policy_name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Every attachment to the target goes (its certificate or group is deleted). */
  async detachAll(target: string): Promise<void> {
    await this.db.deleteFrom('policy_targets').where('target', '=', target).execute();
  }

  /**
   * On PostgreSQL, locks the target's attachments until the transaction ends, so two attachments
   * to one target are counted one after the other (SQLite transactions are serialized anyway).
   */
  async lockTarget(target: string): Promise<void> {
    if (this.dialect === 'postgres') await this.db.selectFrom('policy_targets').select('policy_name').where('target', '=', target).forUpdate().execute();
  }

  async countForTarget(target: string): Promise<number> {
    const r = await this.db.selectFrom('policy_targets').select((eb) => eb.fn.countAll<number>().as('n')).where('target', '=', target).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Whether any policy is attached to anything. */
  async anyAttachment(): Promise<boolean> {
    return (await this.db.selectFrom('policy_targets').select('target').limit(1).executeTakeFirst()) !== undefined;
  }

  async isAttachedAnywhere(name: string): Promise<boolean> {
    return (await this.db.selectFrom('policy_targets').select('target').where('policy_name', '=', name).limit(1).executeTakeFirst()) !== undefined;
  }

  /** The targets the policy is attached to, by ARN (keyset). */
  async targets(name: string, after: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('policy_targets').select('target').where('policy_name', '=', name).orderBy('target').limit(limit);
    if (after !== undefined) q = q.where('target', '>', after);
    return (await q.execute()).map((r) => r.target);
  }

  /** The named policies with their default documents, by name. */
  withDocuments(names: string[]): Promise<PolicyWithDocument[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.withDefaultDocument().where('p.policy_name', 'in', names).orderBy('p.policy_name').execute();
  }

  private withDefaultDocument() {
    return this.db
      .selectFrom('policies as p')
      .innerJoin('policy_versions as v', (j) => j.onRef('v.policy_name', '=', 'p.policy_name').onRef('v.version_id', '=', 'p.default_version_id'))
      .selectAll('p')
      .select('v.document');
  }

  /** The policies attached to any of the targets, with their default documents, by name (keyset). */
  attachedTo(targets: string[], after: string | undefined, limit: number): Promise<PolicyWithDocument[]> {
    if (targets.length === 0) return Promise.resolve([]);
    let q = this.withDefaultDocument()
      .where('p.policy_name', 'in', (eb) => eb.selectFrom('policy_targets').select('policy_name').where('target', 'in', targets))
      .orderBy('p.policy_name')
      .limit(limit);
    if (after !== undefined) q = q.where('p.policy_name', '>', after);
    return q.execute();
  }
}
