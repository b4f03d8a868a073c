import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { checkClientToken, idempotent } from '../idempotency.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import type { ObjectLocationCheck } from './object-check.js';
import { checkPackageName, checkSbom, checkVersionName } from './rules.js';
import { requireVersion } from './version-service.js';

/**
 * Receives "validate the SBOM of this version, association generation N" after the association
 * commits. The validation worker implements it; the generation lets it drop results for an SBOM
 * that was replaced or removed meanwhile.
 */
export interface SbomValidationQueue {
  enqueue(job: { packageName: string; versionName: string; generation: number }): void;
  /** False when validations waiting or running have reached the configured limit (packages.md §9.6). */
  hasCapacity(version: { packageName: string; versionName: string }): boolean;
}

/** Associate / disassociate SBOMs and list per-file validation results (packages.md §9). */
export class SbomService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly objects: ObjectLocationCheck,
    private readonly queue: SbomValidationQueue,
  ) {}

  async associateSbom(input: Record<string, unknown>) {
    const errors = new FieldErrors();
    const packageName = checkPackageName(errors, input.packageName)!;
    const versionName = checkVersionName(errors, input.versionName)!;
    const sbom = checkSbom(errors, input.sbom);
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    const precheck = async () => {
      await requireVersion(this.ctx.store, packageName, versionName);
      await this.objects.requireObject(sbom!.s3Location, 'sbom');
    };
    let generation = 0;
    const result = await idempotent(this.ctx.store, this.ctx.clock, 'AssociateSbomWithPackageVersion', clientToken, { packageName, versionName, sbom }, async (tx) => {
      const row = await requireVersion(tx, packageName, versionName);
      // Checked inside the transaction so a replayed clientToken is answered, and a refusal changes nothing.
      if (!this.queue.hasCapacity({ packageName, versionName })) {
        throw new DomainError('ServiceQuotaExceededException', 'Too many ongoing SBOM validation workflows. Please wait and retry');
      }
      generation = row.sbom_generation + 1;
      await tx.packageVersions.update(packageName, versionName, {
        sbom: JSON.stringify(sbom),
        sbom_validation_status: 'IN_PROGRESS',
        sbom_generation: generation,
        updated_at: this.ctx.clock.now(),
      });
      await tx.sbomResults.deleteFor(packageName, versionName);
      return { packageName, versionName, sbom: sbom!, sbomValidationStatus: 'IN_PROGRESS' };
    }, { precheck });
    if (generation > 0) this.queue.enqueue({ packageName, versionName, generation });
    return result;
  }

  async disassociateSbom(input: Record<string, unknown>): Promise<Record<string, never>> {
    const errors = new FieldErrors();
    const packageName = checkPackageName(errors, input.packageName)!;
    const versionName = checkVersionName(errors, input.versionName)!;
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    return idempotent(this.ctx.store, this.ctx.clock, 'DisassociateSbomFromPackageVersion', clientToken, { packageName, versionName }, async (tx) => {
      const row = await requireVersion(tx, packageName, versionName);
      if (row.sbom === null) return {};
      await tx.packageVersions.update(packageName, versionName, {
        sbom: null,
        sbom_validation_status: null,
        sbom_generation: row.sbom_generation + 1,
        updated_at: this.ctx.clock.now(),
      });
      await tx.sbomResults.deleteFor(packageName, versionName);
      return {};
    });
  }

  async listSbomValidationResults(input: { packageName?: unknown; versionName?: unknown; validationResult?: unknown; maxResults?: unknown; nextToken?: string }) {
    const errors = new FieldErrors();
    const packageName = checkPackageName(errors, input.packageName)!;
    const versionName = checkVersionName(errors, input.versionName)!;
    const filter = errors.string(input.validationResult, 'validationResult', { enum: ['FAILED', 'SUCCEEDED'] });
    const limit = pageSize(errors, input.maxResults, 100);
    errors.throwIfAny();
    await requireVersion(this.ctx.store, packageName, versionName);
    const list = `sbom:${packageName}:${versionName}:${filter ?? ''}`;
    const after = decodeToken(list, input.nextToken, 'ValidationException', isString);
    const rows = await this.ctx.store.sbomResults.list(packageName, versionName, filter, after, limit + 1);
    const { items, nextToken } = page(rows, limit, list, (r) => r.file_name);
    return {
      validationResultSummaries: items.map((r) => ({
        fileName: r.file_name,
        validationResult: r.validation_result,
        ...(r.error_code !== null ? { errorCode: r.error_code } : {}),
        ...(r.error_message !== null ? { errorMessage: r.error_message } : {}),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}
