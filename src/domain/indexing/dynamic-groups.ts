import type { Store } from '../../store/store.js';

/**
 * Whether any dynamic thing group exists (fleet-indexing.md §3.4: thing indexing cannot be turned
 * OFF until they are all deleted). There are no dynamic groups yet (issue 12 item 4): when they
 * come, this asks their store; UpdateIndexingConfiguration already refuses on it.
 */
export async function dynamicThingGroupsExist(_tx: Store): Promise<boolean> {
  return false;
}
