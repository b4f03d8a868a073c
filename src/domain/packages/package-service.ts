import type { Store } from '../../store/store.js';
import type { PackageRow } from '../../store/packages.js';
import type { DomainContext } from '../context.js';
import { conflict, DomainError, notFound, validation } from '../errors.js';
import { checkClientToken, idempotent } from '../idempotency.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { checkTagMap } from '../tags/tag-rules.js';
import { FieldErrors } from '../validation.js';
import { isDeployable } from './lifecycle.js';
import { checkDescription, checkPackageName, checkVersionName } from './rules.js';

export interface CreatePackageInput {
  packageName?: unknown;
  description?: unknown;
  tags?: unknown;
  clientToken?: unknown;
}

export interface UpdatePackageInput {
  packageName?: unknown;
  description?: unknown;
  defaultVersionName?: unknown;
  unsetDefaultVersion?: unknown;
  clientToken?: unknown;
}

export async function requirePackage(store: Store, name: string): Promise<PackageRow> {
  const row = await store.packages.get(name);
  if (!row) throw notFound(`Package ${name} does not exist.`);
  return row;
}

/**
 * Reads a package and holds its row until the transaction ends, so that decisions about its
 * versions cannot interleave: DeletePackage's "no versions left" against CreatePackageVersion,
 * DeletePackageVersion's "not the default" against UpdatePackage naming it. PostgreSQL reads
 * committed rows per statement, so without the row lock both sides pass their checks and the
 * catalog ends with orphaned versions or a default that no longer exists. The lock is an UPDATE
 * of the never-changing created_at (no visible change; SQLite transactions are serial anyway),
 * followed by a fresh read that sees whatever the previous holder committed.
 */
export async function lockPackage(tx: Store, name: string): Promise<PackageRow | undefined> {
  const row = await tx.packages.get(name);
  if (!row) return undefined;
  await tx.packages.update(name, { created_at: row.created_at });
  return tx.packages.get(name);
}

/** Packages: create, read, update, delete, list (packages.md §5). */
export class PackageService {
  constructor(private readonly ctx: DomainContext) {}

  async createPackage(input: CreatePackageInput) {
    const errors = new FieldErrors();
    const packageName = checkPackageName(errors, input.packageName);
    const description = checkDescription(errors, input.description);
    const tags = input.tags === undefined ? undefined : checkTagMap(errors, input.tags);
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    const name = packageName!;
    const params = { name, description, tags };
    return idempotent(this.ctx.store, this.ctx.clock, 'CreatePackage', clientToken, params, async (tx) => {
      if (await tx.packages.get(name)) throw conflict(`Package ${name} already exists.`, name);
      if ((await tx.packages.count()) >= this.ctx.limits.maxPackages) {
        throw new DomainError('ServiceQuotaExceededException', `The account already has the maximum of ${this.ctx.limits.maxPackages} packages.`);
      }
      const now = this.ctx.clock.now();
      await tx.packages.insert({ package_name: name, description: description ?? null, default_version_name: null, created_at: now, updated_at: now });
      const arn = this.ctx.arns.package(name);
      if (tags) await tx.tags.put(arn, tags);
      return { packageName: name, packageArn: arn, ...(description !== undefined ? { description } : {}) };
    });
  }

  async getPackage(input: { packageName?: unknown }) {
    const errors = new FieldErrors();
    const name = checkPackageName(errors, input.packageName);
    errors.throwIfAny();
    const row = await requirePackage(this.ctx.store, name!);
    return {
      packageName: row.package_name,
      packageArn: this.ctx.arns.package(row.package_name),
      ...(row.description !== null ? { description: row.description } : {}),
      ...(row.default_version_name !== null ? { defaultVersionName: row.default_version_name } : {}),
      creationDate: new Date(row.created_at),
      lastModifiedDate: new Date(row.updated_at),
    };
  }

  async updatePackage(input: UpdatePackageInput): Promise<Record<string, never>> {
    const errors = new FieldErrors();
    const name = checkPackageName(errors, input.packageName);
    const description = checkDescription(errors, input.description);
    const defaultVersionName = input.defaultVersionName === undefined ? undefined : checkVersionName(errors, input.defaultVersionName, 'defaultVersionName');
    const unset = errors.boolean(input.unsetDefaultVersion, 'unsetDefaultVersion');
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    if (unset && defaultVersionName !== undefined) {
      throw validation('You cannot name a defaultVersion and set unsetDefaultVersion equal to true at the same time');
    }
    const params = { name, description, defaultVersionName, unset };
    return idempotent(this.ctx.store, this.ctx.clock, 'UpdatePackage', clientToken, params, async (tx) => {
      if (!(await lockPackage(tx, name!))) throw notFound(`Package ${name} does not exist.`);
      const patch: Partial<PackageRow> = { updated_at: this.ctx.clock.now() };
      if (description !== undefined) patch.description = description;
      if (unset) patch.default_version_name = null;
      if (defaultVersionName !== undefined) {
        const version = await tx.packageVersions.get(name!, defaultVersionName);
        if (!version) throw notFound(`Package version ${defaultVersionName} of package ${name} does not exist.`);
        if (!isDeployable(version.status)) {
          throw conflict(`Package version ${defaultVersionName} is in ${version.status} status; only a PUBLISHED or DEPRECATED version can be the default version.`, defaultVersionName);
        }
        patch.default_version_name = defaultVersionName;
      }
      await tx.packages.update(name!, patch);
      return {};
    });
  }

  async deletePackage(input: { packageName?: unknown; clientToken?: unknown }): Promise<Record<string, never>> {
    const errors = new FieldErrors();
    const name = checkPackageName(errors, input.packageName);
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    return idempotent(this.ctx.store, this.ctx.clock, 'DeletePackage', clientToken, { name }, async (tx) => {
      if (!(await lockPackage(tx, name!))) return {};
      const versions = await tx.packageVersions.countForPackage(name!);
      if (versions > 0) {
        throw validation(`Package ${name} still has ${versions} version(s); delete every version before deleting the package.`);
      }
      await tx.packages.delete(name!);
      await tx.tags.removeAll(this.ctx.arns.package(name!));
      return {};
    });
  }

  async listPackages(input: { maxResults?: unknown; nextToken?: string }) {
    const errors = new FieldErrors();
    const limit = pageSize(errors, input.maxResults, 100);
    errors.throwIfAny();
    const after = decodeToken('packages', input.nextToken, 'ValidationException', isString);
    const rows = await this.ctx.store.packages.list(after, limit + 1);
    const { items, nextToken } = page(rows, limit, 'packages', (r) => r.package_name);
    return {
      packageSummaries: items.map((r) => ({
        packageName: r.package_name,
        ...(r.default_version_name !== null ? { defaultVersionName: r.default_version_name } : {}),
        creationDate: new Date(r.created_at),
        lastModifiedDate: new Date(r.updated_at),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}
