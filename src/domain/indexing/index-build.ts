import type { DomainContext } from '../context.js';
import type { ShadowContent } from '../shadows/merge.js';
import type { Store } from '../../store/store.js';
import { readState } from './index-state.js';
import { shadowTerms } from './shadow-terms.js';

/** Shadows indexed per build step (one transaction each). */
const BATCH = 500;

/**
 * The index build (fleet-indexing.md §3.2, decision 0025): after UpdateIndexingConfiguration turns
 * thing indexing on or changes it, every stored shadow's rows are written again, a batch per step,
 * keyset over (thing, shadow) — so shadows written before the index existed (or before migration
 * 0016) are searchable. Writes meanwhile index themselves; a step holds shadow writes off while it
 * runs, so the two never interleave. The build is done when the walk is and `indexBuildDelayMs` has passed;
 * each step checks the configuration's generation, so a newer configuration's build wins.
 */
export class IndexBuild {
  constructor(private readonly ctx: DomainContext) {}

  /** One step; true when another batch is due at once. */
  step(): Promise<boolean> {
    return this.ctx.store.transaction((tx) => this.stepIn(tx));
  }

  /** One step inside the caller's transaction. */
  async stepIn(tx: Store): Promise<boolean> {
    {
      const state = readState(await tx.fleetIndex.getConfig({ forUpdate: true }));
      const row = state.row;
      if (!row || row.thing_status === 'ACTIVE' || state.config.thing.thingIndexingMode === 'OFF') return false;
      if (row.build_done === 0) {
        const shadows = await tx.fleetIndex.shadowsAfter(row.build_after_thing, row.build_after_shadow, BATCH);
        const last = shadows[shadows.length - 1];
        if (last) {
          const rows = shadows.flatMap((s) => (s.deleted_at === null ? shadowTerms(s.shadow_name, JSON.parse(s.document) as ShadowContent) : [])
            .map((term) => ({ thing_name: s.thing_name, shadow_name: s.shadow_name, ...term })));
          await tx.fleetIndex.replaceTermsInRange({ thing: shadows[0].thing_name, shadow: shadows[0].shadow_name }, { thing: last.thing_name, shadow: last.shadow_name }, rows);
        }
        const done = shadows.length < BATCH;
        await tx.fleetIndex.updateBuild(row.generation, {
          build_after_thing: last?.thing_name ?? row.build_after_thing,
          build_after_shadow: last?.shadow_name ?? row.build_after_shadow,
          build_done: done ? 1 : 0,
        });
        if (!done) return true;
      }
      if (this.ctx.clock.now() < row.build_not_before) return false;
      await tx.fleetIndex.updateBuild(row.generation, { thing_status: 'ACTIVE' });
      return false;
    }
  }

  async underWay(): Promise<boolean> {
    const row = await this.ctx.store.fleetIndex.getConfig();
    return row !== undefined && row.thing_status !== 'ACTIVE';
  }

  /** When the build may next finish (its delay's end), if one is under way. */
  async nextDueAt(): Promise<number | undefined> {
    const row = await this.ctx.store.fleetIndex.getConfig();
    // While the walk goes on, run() reports more work itself (and other nodes poll); the end of the
    // delay is a due time.
    if (!row || row.thing_status === 'ACTIVE') return undefined;
    return row.build_done === 1 ? row.build_not_before : undefined;
  }
}
