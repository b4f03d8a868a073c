import type { S3Location } from './rules.js';

/**
 * The catalog's view of object storage: does the S3 object a version or SBOM points at exist?
 * The object-store layer implements it; until a store is configured every location is accepted.
 */
export interface ObjectLocationCheck {
  /** Throws a ValidationException (AWS's wording) when the object or its version is missing. */
  requireObject(location: S3Location, purpose: 'artifact' | 'sbom'): Promise<void>;
}

export const acceptAnyLocation: ObjectLocationCheck = {
  async requireObject() {
    /* no object store configured: nothing to check against */
  },
};
