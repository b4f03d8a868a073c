import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { Arns } from './arns.js';

/** What every domain service is built from. */
export interface DomainContext {
  store: Store;
  clock: Clock;
  arns: Arns;
  limits: Limits;
}

/** Quotas AWS does not publish (packages.md §14): settings with generous defaults. */
export interface Limits {
  maxPackages: number;
  maxVersionsPerPackage: number;
}

export const DEFAULT_LIMITS: Limits = { maxPackages: 10_000, maxVersionsPerPackage: 1_000 };
