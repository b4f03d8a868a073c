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
}
