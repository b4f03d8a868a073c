/**
 * Shadow limits AWS documents loosely or not at all (things-and-shadows.md §9, §11): settings with
 * the spec's recommended defaults.
 */
export interface ShadowSettings {
  /** Bytes of compact JSON over the resulting `desired` + `reported` (§11 #9). */
  maxStateBytes: number;
  /** Nesting levels inside `desired` / `reported`, the section object being level 1 (§11 #8). */
  maxDepth: number;
  /** How long a deleted shadow's version survives for a re-creation to continue from (§11 #10). */
  tombstoneMs: number;
  /** ListNamedShadowsForThing page size when none is asked for (§11 #15). */
  defaultPageSize: number;
  /** Refuse `$`-prefixed shadow names other than `$package` (§10; AWS behaviour unknown). */
  rejectOtherDollarShadowNames: boolean;
}

export const DEFAULT_SHADOW_SETTINGS: ShadowSettings = {
  maxStateBytes: 8192,
  maxDepth: 8,
  tombstoneMs: 48 * 3600 * 1000,
  defaultPageSize: 25,
  rejectOtherDollarShadowNames: false,
};

/** The reserved named shadow Jobs writes installed package versions into (packages.md §12). */
export const PACKAGE_SHADOW = '$package';
