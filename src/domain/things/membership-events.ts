import type { Store } from '../../store/store.js';

export interface MembershipChange {
  joined: string[];
  left: string[];
  /** Every group named has no ancestors (dynamic groups): none need be looked up. */
  rootsOnly?: boolean;
  /** Set when the change already knows the CONTINUOUS jobs that could follow the groups named (`[]`: none). */
  continuousJobs?: string[];
}

/** Told, inside the transaction that made the change, when a thing's group membership really changed. */
export interface MembershipListener {
  /** `joined` / `left`: groups the thing was DIRECTLY added to / removed from (not ancestors). Not called for no-ops. */
  membershipChanged(tx: Store, thingName: string, change: MembershipChange): Promise<void>;
  /** Called before the thing row is deleted, in the same transaction. */
  thingDeleted(tx: Store, thingName: string): Promise<void>;
  /**
   * Optional batch form of `membershipChanged(tx, t, { joined: [], left: [groupName] })` for every
   * `t` of `thingNames` (DeleteThingGroup), so a listener can look up what depends on the group once
   * per batch instead of once per member. A listener without it gets one `membershipChanged` each.
   */
  membersLeft?(tx: Store, groupName: string, thingNames: string[]): Promise<void>;
  /** Optional batch form of `membershipChanged(tx, t, { joined: [groupName], left: [] })` (a dynamic group's sweep). */
  membersJoined?(tx: Store, groupName: string, thingNames: string[]): Promise<void>;
}

/**
 * The listeners every registry service reports to. Calls happen after the membership rows have
 * changed (so `tx` already answers with the new membership) and before the transaction commits, so
 * a listener that throws rolls the whole change back.
 * - DeleteThingGroup: each member is reported as leaving the group (in batches through `membersLeft`)
 *   while the group row still exists (its `path` still names its ancestors); the row is deleted
 *   after the last member left.
 * - DeleteThing: only `thingDeleted`, before anything of the thing is removed, so the listener can
 *   still see the groups it was in; its memberships then go without `membershipChanged` calls.
 */
export class MembershipEvents {
  private readonly listeners: MembershipListener[] = [];

  add(listener: MembershipListener): void {
    this.listeners.push(listener);
  }

  async changed(tx: Store, thingName: string, joined: string[], left: string[], opts: Pick<MembershipChange, 'rootsOnly' | 'continuousJobs'> = {}): Promise<void> {
    if (joined.length === 0 && left.length === 0) return;
    for (const l of this.listeners) await l.membershipChanged(tx, thingName, { ...opts, joined: [...joined], left: [...left] });
  }

  /** Every thing of `thingNames` (no longer members) left `groupName`. */
  async membersLeft(tx: Store, groupName: string, thingNames: string[]): Promise<void> {
    if (thingNames.length === 0) return;
    for (const l of this.listeners) {
      if (l.membersLeft) await l.membersLeft(tx, groupName, [...thingNames]);
      else for (const thingName of thingNames) await l.membershipChanged(tx, thingName, { joined: [], left: [groupName] });
    }
  }

  /** Every thing of `thingNames` (new members) joined `groupName`. */
  async membersJoined(tx: Store, groupName: string, thingNames: string[]): Promise<void> {
    if (thingNames.length === 0) return;
    for (const l of this.listeners) {
      if (l.membersJoined) await l.membersJoined(tx, groupName, [...thingNames]);
      else for (const thingName of thingNames) await l.membershipChanged(tx, thingName, { joined: [groupName], left: [] });
    }
  }

  async deleted(tx: Store, thingName: string): Promise<void> {
    for (const l of this.listeners) await l.thingDeleted(tx, thingName);
  }
}
