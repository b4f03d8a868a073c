import { DomainError } from '../domain/errors.js';
import type { ObjectLocationCheck } from '../domain/packages/object-check.js';
import type { S3Location } from '../domain/packages/rules.js';
import type { ObjectStore } from './object-store.js';

/**
 * The catalog's check that an artifact or SBOM object exists, as AWS makes it at
 * CreatePackageVersion / UpdatePackageVersion / AssociateSbomWithPackageVersion, with the texts
 * of AWS's troubleshooting guide (packages.md §9.6). AWS words the artifact case like the SBOM one.
 */
export class ObjectStoreLocationCheck implements ObjectLocationCheck {
  constructor(private readonly objects: ObjectStore) {}

  async requireObject(location: S3Location, purpose: 'artifact' | 'sbom'): Promise<void> {
    const lookup = await this.objects.head(location.bucket, location.key, location.version);
    if (lookup.found) return;
    const what = purpose === 'sbom' ? 'SBOM' : 'Artifact';
    const which = lookup.missing === 'bucket' ? 'bucket' : lookup.missing === 'key' ? 'key' : 'bucket/key/version';
    throw new DomainError('ValidationException', `${what} not accessible by the service. Please make sure the ${which} exists and S3 permission is granted.`);
  }
}
