import type { DynamicGroupQuery } from '../../store/dynamic-thing-groups.js';
import type { ThingGroupRow } from '../../store/thing-groups.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import type { MembershipEvents } from '../things/membership-events.js';
import type { IndexPredicate } from '../../store/fleet-index-query.js';
import type { DocumentListener, DocumentSource } from './document-changes.js';

/** Things a sweep step re-evaluates (one transaction). */
export const SWEEP_BATCH = 500;

const LIMIT_REASON = 'The thing failed to be added to the given dynamic thing group(s) because the thing already belongs to the maximum allowed number of groups.';

/**
 * Dynamic group membership (fleet-indexing.md §8.3, decision 0046), in the transaction of the
 * change that moved it:
 * - a thing's document changed: only the dynamic groups whose queries read the changed part are
 *   checked, all in one statement over the thing's row; it leaves those it stopped matching and
 *   joins those it now matches;
 * - a sweep re-evaluates a group's query over the whole registry, a batch per step (a new or
 *   changed query, a new indexing configuration).
 * Joins respect the 10-groups-per-thing limit: at the limit, a group older than the thing's newest
 * dynamic group takes that one's place, else the join is refused (logged as AWS logs
 * AddThingToDynamicThingGroupsFailed). Every real change goes to the membership listeners, so
 * CONTINUOUS jobs and policies follow dynamic groups as they follow static ones.
 */
export class DynamicMembership implements DocumentListener {
  constructor(
    private readonly ctx: DomainContext,
    private readonly events: MembershipEvents,
    private readonly maxGroupsPerThing: number,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  async documentChanged(tx: Store, thingName: string, sources: DocumentSource[] | 'all'): Promise<void> {
    const groups = await tx.dynamicGroups.concerned(sources);
    if (groups.length === 0) return;
    const evaluation = await tx.dynamicGroups.evaluate(thingName, groups, true);
    if (!evaluation) return;
    const left: string[] = [];
    const joined: string[] = [];
    groups.forEach((g, i) => {
      if (evaluation.member[i] && !evaluation.matches[i]) left.push(g.groupName);
    });
    for (const g of left) await tx.thingGroups.removeMember(g, thingName);
    let count = evaluation.groupCount - left.length;
    // Oldest first: at the limit, an older group wins a place over a newer one (§8.3).
    const candidates = groups.filter((_, i) => evaluation.matches[i] && !evaluation.member[i]);
    for (const g of candidates) {
      if (count < this.maxGroupsPerThing) {
        if (await tx.thingGroups.addMember(g.groupName, thingName, this.ctx.clock.now())) joined.push(g.groupName);
        count++;
        continue;
      }
      const evicted = await this.makeRoom(tx, thingName, g.createdAt);
      if (evicted === undefined) {
        this.refused(thingName, g.groupName);
        continue;
      }
      left.push(evicted);
      if (await tx.thingGroups.addMember(g.groupName, thingName, this.ctx.clock.now())) joined.push(g.groupName);
    }
    const alsoJoined = joined.filter((g) => !left.includes(g));
    const alsoLeft = left.filter((g) => !joined.includes(g));
    await this.events.changed(tx, thingName, alsoJoined, alsoLeft);
    // A thing that was at the limit may now fit groups it was refused (§8.3).
    if (sources !== 'all' && evaluation.groupCount >= this.maxGroupsPerThing && count < this.maxGroupsPerThing) {
      await this.documentChanged(tx, thingName, 'all');
    }
  }

  /** A static change left the thing below the limit it was at: every dynamic group is checked again. */
  async belowLimit(tx: Store, thingName: string): Promise<void> {
    await this.documentChanged(tx, thingName, 'all');
  }

  /**
   * At the limit: the thing leaves its newest dynamic group if the joining group is older, and the
   * name of the group it left comes back; undefined when there is no room to make.
   */
  private async makeRoom(tx: Store, thingName: string, joiningCreatedAt: number): Promise<string | undefined> {
    const newest = (await tx.dynamicGroups.dynamicGroupsOf(thingName))[0];
    if (!newest || !(joiningCreatedAt < newest.created_at)) return undefined;
    await tx.thingGroups.removeMember(newest.group_name, thingName);
    this.log?.warn({ eventType: 'AddThingToDynamicThingGroupsFailed', thingName, thingGroupName: newest.group_name, reason: LIMIT_REASON }, 'thing left its newest dynamic group for an older one');
    return newest.group_name;
  }

  private refused(thingName: string, groupName: string): void {
    this.log?.warn({ eventType: 'AddThingToDynamicThingGroupsFailed', thingName, thingGroupNames: [groupName], reason: LIMIT_REASON }, 'thing not added to a dynamic thing group');
  }

  /**
   * One sweep step of a group whose membership is being (re)built: the next batch of things in name
   * order joins or leaves it. True when another step is due at once.
   */
  async sweepStep(tx: Store, group: ThingGroupRow, buildDelayDone: (notBefore: number) => boolean): Promise<boolean> {
    const generation = Number(group.build_generation);
    if (group.build_done !== 1) {
      const predicate = JSON.parse(group.predicate!) as IndexPredicate;
      const rows = await tx.dynamicGroups.sweep(group.group_name, predicate, group.build_after, SWEEP_BATCH);
      const left = rows.filter((r) => r.member && !r.matches).map((r) => r.thing_name);
      if (left.length > 0) await tx.thingGroups.removeMembers(group.group_name, left);
      const joined: string[] = [];
      const now = this.ctx.clock.now();
      const self: DynamicGroupQuery = { groupName: group.group_name, predicate, createdAt: Number(group.created_at) };
      for (const r of rows) {
        if (!r.matches || r.member) continue;
        const count = r.groupCount - (left.includes(r.thing_name) ? 1 : 0);
        if (count >= this.maxGroupsPerThing) {
          const evicted = await this.makeRoom(tx, r.thing_name, self.createdAt);
          if (evicted === undefined) {
            this.refused(r.thing_name, group.group_name);
            continue;
          }
          await this.events.changed(tx, r.thing_name, [], [evicted]);
        }
        if (await tx.thingGroups.addMember(group.group_name, r.thing_name, now)) joined.push(r.thing_name);
      }
      await this.events.membersLeft(tx, group.group_name, left);
      await this.events.membersJoined(tx, group.group_name, joined);
      const last = rows[rows.length - 1];
      const done = rows.length < SWEEP_BATCH;
      await tx.dynamicGroups.updateBuild(group.group_name, generation, { build_after: last?.thing_name ?? group.build_after, build_done: done ? 1 : 0 });
      if (!done) return true;
    }
    if (!buildDelayDone(Number(group.build_not_before ?? 0))) return false;
    await tx.dynamicGroups.updateBuild(group.group_name, generation, { dynamic_status: 'ACTIVE' });
    return false;
  }
}
