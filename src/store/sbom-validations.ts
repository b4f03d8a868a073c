import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * The SBOM validation worker's writes to package_versions (the tables are declared in
 * packages.ts). The final status is set by a conditional UPDATE: it takes the row lock and
 * re-checks the association generation in the same statement, so a validation that raced a
 * re-association or disassociation changes nothing.
 */
export class SbomValidationStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Sets the final status if the row is still IN_PROGRESS for this association — same generation
   * and same `sbom` reference (a re-created version starts counting generations again); true when it was.
   */
  async complete(packageName: string, versionName: string, generation: number, sbom: string, status: 'SUCCEEDED' | 'FAILED'): Promise<boolean> {
    const result = await this.db
      .updateTable('package_versions')
      .set({ sbom_validation_status: status })
      .where('package_name', '=', packageName)
      .where('version_name', '=', versionName)
      .where('sbom_generation', '=', generation)
      .where('sbom', '=', sbom)
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Claims the validation of this association for `owner` until `until` (wall-clock ms) if no
   * other node holds a live lease on it; true when it is this owner's. One statement, so two nodes
   * never both validate it.
   */
  async claim(packageName: string, versionName: string, generation: number, owner: string, now: number, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable('package_versions')
      .set({ sbom_lease_until: until, sbom_lease_owner: owner })
      .where('package_name', '=', packageName)
      .where('version_name', '=', versionName)
      .where('sbom_generation', '=', generation)
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .where((eb) => eb.or([eb('sbom_lease_until', 'is', null), eb('sbom_lease_until', '<=', now), eb('sbom_lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Extends this owner's lease; false when another node has taken the validation over. */
  async renew(packageName: string, versionName: string, owner: string, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable('package_versions')
      .set({ sbom_lease_until: until })
      .where('package_name', '=', packageName)
      .where('version_name', '=', versionName)
      .where('sbom_lease_owner', '=', owner)
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Validations in progress that no node holds a live lease on (a node died, or none took them yet). */
  unclaimed(now: number, limit: number): Promise<{ package_name: string; version_name: string; sbom_generation: number }[]> {
    return this.db
      .selectFrom('package_versions')
      .select(['package_name', 'version_name', 'sbom_generation'])
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .where((eb) => eb.or([eb('sbom_lease_until', 'is', null), eb('sbom_lease_until', '<=', now)]))
      .limit(limit)
      .execute();
  }

  /** Gives up every lease `owner` holds (a clean shutdown: the next node need not wait for them to lapse). */
  async releaseAll(owner: string): Promise<void> {
    await this.db.updateTable('package_versions').set({ sbom_lease_until: null, sbom_lease_owner: null }).where('sbom_lease_owner', '=', owner).execute();
  }
}
