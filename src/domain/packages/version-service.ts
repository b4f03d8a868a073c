import type { PackageVersionRow } from '../../store/packages.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { conflict, DomainError, notFound, validation } from '../errors.js';
import { checkClientToken, idempotent } from '../idempotency.js';
import { parseJson } from '../json.js';
import { decodeToken, page, pageSize } from '../pagination.js';
import { checkTagMap } from '../tags/tag-rules.js';
import { FieldErrors } from '../validation.js';
import { applyAction, assertEditable, PACKAGE_VERSION_ACTIONS, PACKAGE_VERSION_STATUSES, type PackageVersionAction, type PackageVersionStatus } from './lifecycle.js';
import type { ObjectLocationCheck } from './object-check.js';
import { lockPackage } from './package-service.js';
import { checkArtifact, checkAttributes, checkDescription, checkPackageName, checkRecipe, checkVersionName } from './rules.js';
import { DEPLOYING_STATUSES } from '../jobs/job-lifecycle.js';

export async function requireVersion(store: Store, packageName: string, versionName: string): Promise<PackageVersionRow> {
  const row = await store.packageVersions.get(packageName, versionName);
  if (!row) throw notFound(`Package version ${versionName} of package ${packageName} does not exist.`);
  return row;
}

const isVersionCursor = (k: unknown): k is [number, string] =>
  Array.isArray(k) && k.length === 2 && typeof k[0] === 'number' && typeof k[1] === 'string';

const packageMissing = (packageName: string) => validation(`Package ${packageName} does not exist; create the package before its versions.`);

/**
 * A version's recipe is frozen while a job deploys it (packages.md §7.1): devices of one rollout
 * must all get the same instructions. Active jobs are few, so they are read and their destinations
 * checked here rather than indexed.
 */
async function assertRecipeNotDeploying(tx: Store, packageName: string, versionName: string): Promise<void> {
  // The job lifecycle says which jobs still deploy what they name.
  for (const job of await tx.jobs.withDestinationsInStatus([...DEPLOYING_STATUSES])) {
    const destinations = parseJson<{ packageName: string; versionName: string }[]>(job.destination_package_versions) ?? [];
    if (destinations.some((d) => d.packageName === packageName && d.versionName === versionName)) {
      throw conflict(`The recipe of package ${packageName} version ${versionName} cannot change while job ${job.job_id} deploys it.`, versionName);
    }
  }
}

/** Package versions and their DRAFT → PUBLISHED → DEPRECATED lifecycle (packages.md §5, §7). */
export class PackageVersionService {
  constructor(
    private readonly ctx: DomainContext,
    /** Checks that an artifact's S3 object exists; the object-store issue plugs in a real one. */
    private readonly objects: ObjectLocationCheck,
  ) {}

  private names(errors: FieldErrors, input: { packageName?: unknown; versionName?: unknown }) {
    return { packageName: checkPackageName(errors, input.packageName)!, versionName: checkVersionName(errors, input.versionName)! };
  }

  async createPackageVersion(input: Record<string, unknown>) {
    const errors = new FieldErrors();
    const { packageName, versionName } = this.names(errors, input);
    const description = checkDescription(errors, input.description);
    const attributes = input.attributes === undefined ? undefined : checkAttributes(errors, input.attributes);
    const artifact = input.artifact === undefined ? undefined : checkArtifact(errors, input.artifact);
    const recipe = checkRecipe(errors, input.recipe);
    const tags = input.tags === undefined ? undefined : checkTagMap(errors, input.tags);
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    const params = { packageName, versionName, description, attributes, artifact, recipe, tags };
    // Only an artifact needs a look outside the transaction (and a missing package is told first).
    const precheck = artifact ? async () => {
      if (!(await this.ctx.store.packages.get(packageName))) throw packageMissing(packageName);
      await this.objects.requireObject(artifact.s3Location, 'artifact');
    } : undefined;
    return idempotent(this.ctx.store, this.ctx.clock, 'CreatePackageVersion', clientToken, params, async (tx) => {
      if (!(await lockPackage(tx, packageName))) throw packageMissing(packageName);
      if (await tx.packageVersions.get(packageName, versionName)) {
        throw conflict(`Package version ${versionName} of package ${packageName} already exists.`, versionName);
      }
      if ((await tx.packageVersions.countForPackage(packageName)) >= this.ctx.limits.maxVersionsPerPackage) {
        throw new DomainError('ServiceQuotaExceededException', `Package ${packageName} already has the maximum of ${this.ctx.limits.maxVersionsPerPackage} versions.`);
      }
      const now = this.ctx.clock.now();
      await tx.packageVersions.insert({
        package_name: packageName,
        version_name: versionName,
        description: description ?? null,
        attributes: attributes ? JSON.stringify(attributes) : null,
        artifact: artifact ? JSON.stringify(artifact) : null,
        recipe: recipe ?? null,
        status: 'DRAFT',
        sbom: null,
        sbom_validation_status: null,
        sbom_generation: 0,
        created_at: now,
        updated_at: now,
      });
      const arn = this.ctx.arns.packageVersion(packageName, versionName);
      if (tags) await tx.tags.put(arn, tags);
      return {
        packageVersionArn: arn,
        packageName,
        versionName,
        ...(description !== undefined ? { description } : {}),
        ...(attributes !== undefined ? { attributes } : {}),
        status: 'DRAFT' as PackageVersionStatus,
      };
    }, { precheck });
  }

  async getPackageVersion(input: { packageName?: unknown; versionName?: unknown }) {
    const errors = new FieldErrors();
    const { packageName, versionName } = this.names(errors, input);
    errors.throwIfAny();
    const row = await requireVersion(this.ctx.store, packageName, versionName);
    return {
      packageVersionArn: this.ctx.arns.packageVersion(row.package_name, row.version_name),
      packageName: row.package_name,
      versionName: row.version_name,
      ...(row.description !== null ? { description: row.description } : {}),
      ...(row.attributes !== null ? { attributes: parseJson(row.attributes) } : {}),
      ...(row.artifact !== null ? { artifact: parseJson(row.artifact) } : {}),
      status: row.status,
      creationDate: new Date(row.created_at),
      lastModifiedDate: new Date(row.updated_at),
      ...(row.sbom !== null ? { sbom: parseJson(row.sbom) } : {}),
      ...(row.sbom_validation_status !== null ? { sbomValidationStatus: row.sbom_validation_status } : {}),
      ...(row.recipe !== null ? { recipe: row.recipe } : {}),
    };
  }

  async updatePackageVersion(input: Record<string, unknown>): Promise<Record<string, never>> {
    const errors = new FieldErrors();
    const { packageName, versionName } = this.names(errors, input);
    const description = checkDescription(errors, input.description);
    const attributes = input.attributes === undefined ? undefined : checkAttributes(errors, input.attributes);
    const artifact = input.artifact === undefined ? undefined : checkArtifact(errors, input.artifact);
    const recipe = checkRecipe(errors, input.recipe);
    const action = errors.string(input.action, 'action', { enum: PACKAGE_VERSION_ACTIONS }) as PackageVersionAction | undefined;
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    const params = { packageName, versionName, description, attributes, artifact, recipe, action };
    // Only a new artifact needs a look outside the transaction; what the version's state refuses is told first.
    const precheck = artifact ? async () => {
      const current = await requireVersion(this.ctx.store, packageName, versionName);
      assertEditable(current.status as PackageVersionStatus, 'artifact', versionName);
      await this.objects.requireObject(artifact.s3Location, 'artifact');
    } : undefined;
    return idempotent(this.ctx.store, this.ctx.clock, 'UpdatePackageVersion', clientToken, params, async (tx) => {
      const row = await requireVersion(tx, packageName, versionName);
      const status = row.status as PackageVersionStatus;
      // Field edits apply before the transition, so a DRAFT can be edited and published in one call.
      if (attributes !== undefined) assertEditable(status, 'attributes', versionName);
      if (artifact !== undefined) assertEditable(status, 'artifact', versionName);
      if (recipe !== undefined && recipe !== row.recipe) await assertRecipeNotDeploying(tx, packageName, versionName);
      const patch: Partial<PackageVersionRow> = { updated_at: this.ctx.clock.now() };
      if (description !== undefined) patch.description = description;
      if (attributes !== undefined) patch.attributes = JSON.stringify(attributes);
      if (artifact !== undefined) patch.artifact = JSON.stringify(artifact);
      if (recipe !== undefined) patch.recipe = recipe;
      if (action !== undefined) patch.status = applyAction(status, action, versionName);
      await tx.packageVersions.update(packageName, versionName, patch);
      return {};
    }, { precheck });
  }

  async deletePackageVersion(input: { packageName?: unknown; versionName?: unknown; clientToken?: unknown }): Promise<Record<string, never>> {
    const errors = new FieldErrors();
    const { packageName, versionName } = this.names(errors, input);
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    return idempotent(this.ctx.store, this.ctx.clock, 'DeletePackageVersion', clientToken, { packageName, versionName }, async (tx) => {
      if (!(await tx.packageVersions.get(packageName, versionName))) return {};
      // Lock the package before reading its default, then make sure the version is still there.
      const pkg = await lockPackage(tx, packageName);
      if (!(await tx.packageVersions.get(packageName, versionName))) return {};
      if (pkg?.default_version_name === versionName) {
        throw validation(`Package version ${versionName} is the default version of package ${packageName}; unset or change the default version before deleting it.`);
      }
      await tx.packageVersions.delete(packageName, versionName);
      await tx.sbomResults.deleteFor(packageName, versionName);
      await tx.tags.removeAll(this.ctx.arns.packageVersion(packageName, versionName));
      return {};
    });
  }

  async listPackageVersions(input: { packageName?: unknown; status?: unknown; maxResults?: unknown; nextToken?: string }) {
    const errors = new FieldErrors();
    const packageName = checkPackageName(errors, input.packageName)!;
    const status = errors.string(input.status, 'status', { enum: PACKAGE_VERSION_STATUSES });
    const limit = pageSize(errors, input.maxResults, 100);
    errors.throwIfAny();
    const cursor = decodeToken(`versions:${packageName}:${status ?? ''}`, input.nextToken, 'ValidationException', isVersionCursor);
    const rows = await this.ctx.store.packageVersions.list(packageName, status, cursor && { createdAt: cursor[0], versionName: cursor[1] }, limit + 1);
    const { items, nextToken } = page(rows, limit, `versions:${packageName}:${status ?? ''}`, (r) => [r.created_at, r.version_name]);
    return {
      packageVersionSummaries: items.map((r) => ({
        packageName: r.package_name,
        versionName: r.version_name,
        status: r.status,
        creationDate: new Date(r.created_at),
        lastModifiedDate: new Date(r.updated_at),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}
