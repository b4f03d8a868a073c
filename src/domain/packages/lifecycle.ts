import { conflict } from '../errors.js';

/** DRAFT → PUBLISHED ⇄ DEPRECATED; never back to DRAFT (packages.md §7). */
export type PackageVersionStatus = 'DRAFT' | 'PUBLISHED' | 'DEPRECATED';
export type PackageVersionAction = 'PUBLISH' | 'DEPRECATE';

export const PACKAGE_VERSION_STATUSES: readonly PackageVersionStatus[] = ['DRAFT', 'PUBLISHED', 'DEPRECATED'];
export const PACKAGE_VERSION_ACTIONS: readonly PackageVersionAction[] = ['PUBLISH', 'DEPRECATE'];

export function applyAction(status: PackageVersionStatus, action: PackageVersionAction, versionName: string): PackageVersionStatus {
  if (action === 'PUBLISH') return 'PUBLISHED';
  if (status === 'DRAFT') {
    throw conflict(`Package version ${versionName} is in DRAFT status and cannot be deprecated; publish it first.`, versionName);
  }
  return 'DEPRECATED';
}

/** Attributes and the artifact are frozen once a version leaves DRAFT. */
export function assertEditable(status: PackageVersionStatus, field: 'attributes' | 'artifact', versionName: string): void {
  if (status !== 'DRAFT') {
    throw conflict(`The ${field} of package version ${versionName} cannot be changed in ${status} status; only DRAFT versions can be edited.`, versionName);
  }
}

/** Deployable (and eligible as a package default): PUBLISHED or DEPRECATED. */
export function isDeployable(status: string): boolean {
  return status === 'PUBLISHED' || status === 'DEPRECATED';
}
