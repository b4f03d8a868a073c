import type { DynamicGroupQuery, ThingDocumentRow } from '../../store/dynamic-thing-groups.js';
import type { IndexPredicate } from '../../store/fleet-index-query.js';
import type { ThingGroupRow } from '../../store/thing-groups.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import type { MembershipEvents } from '../things/membership-events.js';
import type { DocumentListener, DocumentSource, KnownTerms } from './document-changes.js';
import { matchesDocument, thingDocument, type ThingDocument } from './document-match.js';
import { sourcesOf } from './dynamic-group-query.js';

/** Things a sweep step re-evaluates (one transaction). */
export const SWEEP_BATCH = 500;

const LIMIT_REASON = 'The thing failed to be added to the given dynamic thing group(s) because the thing already belongs to the maximum allowed number of groups.';

/**
 * Dynamic group membership (fleet-indexing.md §8.3, decision 0046), in the transaction of the
 * change that moved it:
 * - a thing's document changed: only the dynamic groups whose queries read the changed part are
 *   checked. The thing's document is read once (one small statement; the shadow just written is
 *   already known) and every group's predicate evaluated on it in memory (document-match.ts),
 *   the database deciding only what the memory cannot (string ranges); the thing then leaves and
 *   joins groups in one statement;
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

  /** Which dynamic groups read which sources, as of a generation (fleet_indexing.dynamic_generation). */
  private readonly cache = new Map<string, { generation: number; groups: (DynamicGroupQuery & { sources: string[] })[] }>();

  async documentChanged(tx: Store, thingName: string, sources: DocumentSource[] | 'all', known?: KnownTerms): Promise<void> {
    // One statement in the common case: the thing's document, its row locked (two changes of one
    // thing decide one after the other, each from what the other committed), and the generation
    // that says whether this node's list of the groups reading these sources is current.
    let row = await tx.dynamicGroups.loadDocument(thingName, true);
    if (row === 'busy') {
      await tx.dynamicGroups.lockThing(thingName);
      row = await tx.dynamicGroups.loadDocument(thingName);
    }
    if (row === undefined) return;
    const groups = await this.concerned(tx, sources, row.generation);
    if (groups.length === 0) return;
    const doc = await this.document(tx, row, groups, known);
    const decided = groups.map((g) => matchesDocument(g.predicate, doc));
    const undecided = groups.filter((_, i) => decided[i] === undefined);
    const fromSql = await tx.dynamicGroups.matchInSql(thingName, undecided.map((g) => g.predicate));
    const matches = decided.map((d) => d ?? fromSql.shift()!);

    const memberOf = new Set(row.groups.map((g) => g.replace(/\*$/, '')));
    const left = groups.filter((g, i) => memberOf.has(g.groupName) && !matches[i]).map((g) => g.groupName);
    let count = memberOf.size - left.length;
    // Oldest first: at the limit, an older group wins a place over a newer one (§8.3).
    const joining: string[] = [];
    const atLimit: DynamicGroupQuery[] = [];
    groups.forEach((g, i) => {
      if (!matches[i] || memberOf.has(g.groupName)) return;
      if (count < this.maxGroupsPerThing) {
        joining.push(g.groupName);
        count++;
      } else atLimit.push(g);
    });
    const moved = await tx.dynamicGroups.moveThing(thingName, left, joining, this.ctx.clock.now());
    for (const g of atLimit) {
      const evicted = await this.makeRoom(tx, thingName, g.createdAt);
      if (evicted === undefined) {
        this.refused(thingName, g.groupName);
        continue;
      }
      moved.left.push(evicted);
      if (await tx.thingGroups.addMember(g.groupName, thingName, this.ctx.clock.now())) moved.joined.push(g.groupName);
    }
    // No CONTINUOUS job follows any group moved (known from the cached groups; an eviction's group is
    // not among them): the jobs listener need not look.
    const followed = atLimit.length > 0 || groups.some((g) => g.continuous && (moved.left.includes(g.groupName) || moved.joined.includes(g.groupName)));
    await this.events.changed(tx, thingName, moved.joined.filter((g) => !moved.left.includes(g)), moved.left.filter((g) => !moved.joined.includes(g)), {
      rootsOnly: true, ...(followed ? {} : { continuousJobs: [] }),
    });
    // A thing that was at the limit may now fit groups it was refused (§8.3).
    if (sources !== 'all' && memberOf.size >= this.maxGroupsPerThing && count < this.maxGroupsPerThing) {
      await this.documentChanged(tx, thingName, 'all');
    }
  }

  /** The dynamic groups whose queries read `sources`, from this node's cache while the generation holds. */
  private async concerned(tx: Store, sources: DocumentSource[] | 'all', generation: number): Promise<(DynamicGroupQuery & { sources: string[] })[]> {
    const key = sources === 'all' ? '*' : sources.join(' ');
    const cached = this.cache.get(key);
    if (cached && cached.generation === generation) return cached.groups;
    const groups = (await tx.dynamicGroups.concerned(sources)).map((g) => ({ ...g, sources: sourcesOf(g.predicate) }));
    if (this.cache.size >= 1000) this.cache.clear();
    this.cache.set(key, { generation, groups });
    return groups;
  }

  /** The document the groups' predicates read: the registry row, and the shadows they name (one read for those not known). */
  private async document(tx: Store, row: ThingDocumentRow, groups: { sources: string[] }[], known?: KnownTerms): Promise<ThingDocument> {
    const shadows = new Set<string>();
    for (const g of groups) for (const s of g.sources) if (s.startsWith('shadow:')) shadows.add(s.slice('shadow:'.length));
    if (known) shadows.delete(known.shadowName);
    const terms = await tx.dynamicGroups.termsOf(row.thing_name, [...shadows]);
    if (known) for (const t of known.terms) terms.push({ shadow_name: known.shadowName, ...t });
    return thingDocument(row, terms);
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
   * order joins or leaves it. True when another step is due at once. Locks in the order every
   * change takes them: the CONTINUOUS jobs the group feeds, then the things that move, then what
   * the membership events touch.
   */
  async sweepStep(tx: Store, group: ThingGroupRow, buildDelayDone: (notBefore: number) => boolean): Promise<boolean> {
    const generation = Number(group.build_generation);
    if (group.build_done !== 1) {
      const predicate = JSON.parse(group.predicate!) as IndexPredicate;
      for (const { job_id } of await tx.jobs.continuousJobsTargetingGroups([group.group_name])) await tx.jobs.getForUpdate(job_id);
      const batch = await tx.dynamicGroups.sweep(group.group_name, predicate, group.build_after, SWEEP_BATCH);
      // Only the things the batch would move are decided again, locked (a change of one of them
      // committing meanwhile is seen; a thing that stays put needs neither).
      const rows = await tx.dynamicGroups.recheck(group.group_name, predicate, batch.filter((r) => r.matches !== r.member));
      const left = rows.filter((r) => r.member && !r.matches).map((r) => r.thing_name);
      if (left.length > 0) await tx.thingGroups.removeMembers(group.group_name, left);
      const joining: string[] = [];
      for (const r of rows) {
        if (!r.matches || r.member) continue;
        if (r.groupCount >= this.maxGroupsPerThing) {
          const evicted = await this.makeRoom(tx, r.thing_name, Number(group.created_at));
          if (evicted === undefined) {
            this.refused(r.thing_name, group.group_name);
            continue;
          }
          await this.events.changed(tx, r.thing_name, [], [evicted], { rootsOnly: true });
        }
        joining.push(r.thing_name);
      }
      const joined = await tx.thingGroups.addMembers(group.group_name, joining, this.ctx.clock.now());
      await this.events.membersLeft(tx, group.group_name, left);
      await this.events.membersJoined(tx, group.group_name, joined);
      const last = batch[batch.length - 1];
      const done = batch.length < SWEEP_BATCH;
      await tx.dynamicGroups.updateBuild(group.group_name, generation, { build_after: last?.thing_name ?? group.build_after, build_done: done ? 1 : 0 });
      if (!done) return true;
    }
    if (!buildDelayDone(Number(group.build_not_before ?? 0))) return false;
    await tx.dynamicGroups.updateBuild(group.group_name, generation, { dynamic_status: 'ACTIVE' });
    return false;
  }
}
