import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    packages: PackageRow;
    package_versions: PackageVersionRow;
    sbom_validation_results: SbomValidationResultRow;
  }
}

export interface PackageRow {
  package_name: string;
  description: string | null;
  default_version_name: string | null;
  created_at: number;
  updated_at: number;
}

export interface PackageVersionRow {
  package_name: string;
  version_name: string;
  description: string | null;
  /** JSON object of string → string. */
  attributes: string | null;
  /** JSON {s3Location:{bucket,key,version}}. */
  artifact: string | null;
  recipe: string | null;
  status: string;
  /** JSON {s3Location:{bucket,key,version}}. */
  sbom: string | null;
  sbom_validation_status: string | null;
  /** Bumped on every (dis)association, so a validation that finishes late can tell it is stale. */
  sbom_generation: number;
  created_at: number;
  updated_at: number;
  /** The node validating the SBOM holds it until then (wall-clock ms; migration 0013). */
  sbom_lease_until?: number | null;
  sbom_lease_owner?: string | null;
}

export interface SbomValidationResultRow {
  package_name: string;
  version_name: string;
  file_name: string;
  validation_result: string;
  error_code: string | null;
  error_message: string | null;
}

/**
 * The hottest reads (every Get of a package or version, every lookup a job makes) compile their
 * SQL once per store and bind new parameters each time: Kysely would otherwise rebuild and
 * recompile the same query on every call. Parameter order follows the `where` calls.
 */
async function firstRow<R>(db: Kysely<Database>, compiled: CompiledQuery<R>, parameters: unknown[]): Promise<R | undefined> {
  return (await db.executeQuery<R>({ ...compiled, parameters })).rows[0];
}

export class PackageStore {
  private getQuery?: CompiledQuery<PackageRow>;

  constructor(private readonly db: Kysely<Database>) {}

  get(name: string): Promise<PackageRow | undefined> {
    this.getQuery ??= this.db.selectFrom('packages').selectAll().where('package_name', '=', '').compile();
    return firstRow(this.db, this.getQuery, [name]);
  }

  async insert(row: PackageRow): Promise<void> {
    await this.db.insertInto('packages').values(row).execute();
  }

  async update(name: string, patch: Partial<Omit<PackageRow, 'package_name'>>): Promise<void> {
    await this.db.updateTable('packages').set(patch).where('package_name', '=', name).execute();
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('packages').where('package_name', '=', name).execute();
  }

  count(): Promise<number> {
    return this.db.selectFrom('packages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n));
  }

  list(afterName: string | undefined, limit: number): Promise<PackageRow[]> {
    let q = this.db.selectFrom('packages').selectAll().orderBy('package_name').limit(limit);
    if (afterName !== undefined) q = q.where('package_name', '>', afterName);
    return q.execute();
  }
}

export class PackageVersionStore {
  private getQuery?: CompiledQuery<PackageVersionRow>;

  constructor(private readonly db: Kysely<Database>) {}

  get(packageName: string, versionName: string): Promise<PackageVersionRow | undefined> {
    this.getQuery ??= this.db.selectFrom('package_versions').selectAll().where('package_name', '=', '').where('version_name', '=', '').compile();
    return firstRow(this.db, this.getQuery, [packageName, versionName]);
  }

  async insert(row: PackageVersionRow): Promise<void> {
    await this.db.insertInto('package_versions').values(row).execute();
  }

  async update(packageName: string, versionName: string, patch: Partial<Omit<PackageVersionRow, 'package_name' | 'version_name'>>): Promise<void> {
    await this.db
      .updateTable('package_versions')
      .set(patch)
      .where('package_name', '=', packageName)
      .where('version_name', '=', versionName)
      .execute();
  }

  async delete(packageName: string, versionName: string): Promise<void> {
    await this.db.deleteFrom('package_versions').where('package_name', '=', packageName).where('version_name', '=', versionName).execute();
  }

  countForPackage(packageName: string): Promise<number> {
    return this.db
      .selectFrom('package_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('package_name', '=', packageName)
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  /** Versions ordered by creation time, then name (keyset pagination). */
  list(
    packageName: string,
    status: string | undefined,
    after: { createdAt: number; versionName: string } | undefined,
    limit: number,
  ): Promise<PackageVersionRow[]> {
    let q = this.db
      .selectFrom('package_versions')
      .selectAll()
      .where('package_name', '=', packageName)
      .orderBy('created_at')
      .orderBy('version_name')
      .limit(limit);
    if (status) q = q.where('status', '=', status);
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '>', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('version_name', '>', after.versionName)]),
        ]),
      );
    }
    return q.execute();
  }

  /** Versions whose SBOM validation has not finished (resumed after a restart). */
  listSbomInProgress(): Promise<PackageVersionRow[]> {
    return this.db.selectFrom('package_versions').selectAll().where('sbom_validation_status', '=', 'IN_PROGRESS').execute();
  }
}

export class SbomValidationResultStore {
  constructor(private readonly db: Kysely<Database>) {}

  async replace(packageName: string, versionName: string, rows: SbomValidationResultRow[]): Promise<void> {
    await this.deleteFor(packageName, versionName);
    for (let i = 0; i < rows.length; i += 200) {
      await this.db.insertInto('sbom_validation_results').values(rows.slice(i, i + 200)).execute();
    }
  }

  async deleteFor(packageName: string, versionName: string): Promise<void> {
    await this.db
      .deleteFrom('sbom_validation_results')
      .where('package_name', '=', packageName)
      .where('version_name', '=', versionName)
      .execute();
  }

  list(packageName: string, versionName: string, result: string | undefined, afterFileName: string | undefined, limit: number): Promise<SbomValidationResultRow[]> {
    let q = this.db
      .selectFrom('sbom_validation_results')
      .selectAll()
      .where('package_name', '=', packageName)
      .where('version_name', '=', versionName)
      .orderBy('file_name')
      .limit(limit);
    if (result) q = q.where('validation_result', '=', result);
    if (afterFileName !== undefined) q = q.where('file_name', '>', afterFileName);
    return q.execute();
  }
}
