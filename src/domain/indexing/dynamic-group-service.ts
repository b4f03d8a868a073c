import { randomUUID } from 'node:crypto';
import type { ThingGroupRow } from '../../store/thing-groups.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { checkTagList } from '../tags/tag-rules.js';
import type { MembershipEvents } from '../things/membership-events.js';
import { checkProperties, removeAllMembers } from '../things/thing-group-service.js';
import {
  applyAttributes, checkExpectedVersion, checkName, parseAttributes, sameAttributes, staticGroupRefused, thingGroupNotFound,
} from '../things/thing-rules.js';
import { FieldErrors } from '../validation.js';
import type { IndexPredicate } from '../../store/fleet-index-query.js';
import type { DocumentSource } from './document-changes.js';
import { compileGroupQuery, sourcesOf } from './dynamic-group-query.js';
import type { DynamicMembership } from './dynamic-membership.js';
import { NOT_ENABLED } from './fleet-index-service.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './index-fields.js';
import { readState } from './index-state.js';
import type { IndexingSettings } from './indexing-config.js';
import type { ThingIndexingConfiguration } from './indexing-config.js';

const QUERY_VERSION = '2017-09-30';
const INDEX_NAME = 'AWS_Things';
/** Dynamic groups per account (fleet-indexing.md §9). */
export const MAX_DYNAMIC_GROUPS = 100;

const errors = () => new FieldErrors('InvalidRequestException');
/** Sweep steps a Create or Update runs before it answers (SWEEP_BATCH things each). */
const SYNC_STEPS = 4;

interface QueryInput {
  indexName?: unknown;
  queryString?: unknown;
  queryVersion?: unknown;
}

/**
 * CreateDynamicThingGroup, UpdateDynamicThingGroup and DeleteDynamicThingGroup (fleet-indexing.md
 * §8.1, decision 0046). A dynamic group is a thing group row with a query; a new or changed query
 * is swept over the registry — the first batch in the request's own transaction (a small registry
 * is ACTIVE at once), the rest by the `dynamic-group-build` reconciler — and from then on every
 * change of a thing's document moves its membership in the change's transaction.
 */
export class DynamicGroupService {
  /** Told after a commit that left a sweep to do (the engine is poked). */
  onBuildDue: () => void = () => undefined;

  constructor(
    private readonly ctx: DomainContext,
    private readonly membership: DynamicMembership,
    private readonly events: MembershipEvents,
    private readonly settings: Pick<IndexingSettings, 'indexBuildDelayMs'>,
    private readonly limits: QueryLimits = DEFAULT_QUERY_LIMITS,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  async createDynamicThingGroup(input: QueryInput & { thingGroupName?: unknown; thingGroupProperties?: unknown; tags?: unknown }) {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName')!;
    const props = checkProperties(e, input.thingGroupProperties, false);
    const tags = checkTagList(e, input.tags, 'tags');
    const query = this.checkQueryInput(e, input, true);
    e.throwIfAny();
    const description = props?.description === '' ? undefined : props?.description;
    const attributes = applyAttributes({}, props?.payload && { ...props.payload, merge: false });
    const result = await this.ctx.store.transaction(async (tx) => {
      const compiled = compileGroupQuery(query.queryString!, await this.thingConfig(tx), this.limits);
      const answer = (row: ThingGroupRow) => ({
        thingGroupName: row.group_name,
        thingGroupArn: this.ctx.arns.thingGroup(row.group_name),
        thingGroupId: row.group_id,
        indexName: row.index_name ?? INDEX_NAME,
        queryString: row.query_string!,
        queryVersion: row.query_version ?? QUERY_VERSION,
      });
      const existing = await tx.thingGroups.get(name);
      if (existing) {
        // The same request again answers the group it made (fleet-indexing.md §11 #13).
        const same = existing.query_string === query.queryString
          && (existing.description ?? undefined) === description
          && sameAttributes(parseAttributes(existing.attributes), attributes);
        if (same) return answer(existing);
        throw new DomainError('ResourceAlreadyExistsException', `Thing Group ${name} already exists in current account with different properties`, {
          resourceId: existing.group_id, resourceArn: this.ctx.arns.thingGroup(name),
        });
      }
      if ((await tx.dynamicGroups.count()) >= MAX_DYNAMIC_GROUPS) {
        throw new DomainError('LimitExceededException', `An account can have at most ${MAX_DYNAMIC_GROUPS} dynamic thing groups.`);
      }
      const now = this.ctx.clock.now();
      const row: ThingGroupRow = {
        group_name: name,
        group_id: randomUUID(),
        parent_group_name: null,
        path: `/${name}/`,
        depth: 1,
        description: description ?? null,
        attributes: JSON.stringify(attributes),
        version: 1,
        created_at: now,
        query_string: query.queryString!,
        index_name: INDEX_NAME,
        query_version: QUERY_VERSION,
        predicate: JSON.stringify(compiled.predicate),
        dynamic_status: 'BUILDING',
        build_after: null,
        build_generation: 1,
        build_done: 0,
        build_not_before: now + this.settings.indexBuildDelayMs,
      };
      if (!(await tx.thingGroups.insert(row))) throw new DomainError('ResourceAlreadyExistsException', `Thing Group ${name} already exists in current account with different properties`);
      await tx.dynamicGroups.putSources(name, compiled.sources);
      await tx.fleetIndex.bumpDynamicGeneration();
      if (tags && Object.keys(tags).length > 0) await tx.tags.put(this.ctx.arns.thingGroup(name), tags);
      return answer(row);
    });
    await this.sweepNow(name);
    return result;
  }

  async updateDynamicThingGroup(input: QueryInput & { thingGroupName?: unknown; thingGroupProperties?: unknown; expectedVersion?: unknown }): Promise<{ version: number }> {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName')!;
    const props = checkProperties(e, input.thingGroupProperties, true);
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    const query = this.checkQueryInput(e, input, false);
    e.throwIfAny();
    let rebuilt = false;
    const result = await this.ctx.store.transaction(async (tx) => {
      const group = await this.requireDynamic(tx, name);
      if (expectedVersion !== undefined && expectedVersion !== Number(group.version)) {
        throw new DomainError('VersionConflictException', `The version for thing group ${name} does not match the expected version.`);
      }
      const current = parseAttributes(group.attributes);
      const attributes = applyAttributes(current, props!.payload);
      const version = Number(group.version) + 1;
      await tx.thingGroups.update(name, {
        version,
        ...(props!.description !== undefined ? { description: props!.description === '' ? null : props!.description } : {}),
        ...(attributes !== current ? { attributes: JSON.stringify(attributes) } : {}),
      });
      if (query.queryString !== undefined && query.queryString !== group.query_string) {
        const compiled = compileGroupQuery(query.queryString, await this.thingConfig(tx), this.limits);
        await this.rebuild(tx, group, query.queryString, compiled.predicate, compiled.sources);
        rebuilt = true;
      }
      return { version };
    });
    if (rebuilt) await this.sweepNow(name);
    return result;
  }

  async deleteDynamicThingGroup(input: { thingGroupName?: unknown; expectedVersion?: unknown }): Promise<Record<string, never>> {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName')!;
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    e.throwIfAny();
    return this.ctx.store.transaction(async (tx) => {
      const group = await tx.thingGroups.getForUpdate(name);
      // The model lists no ResourceNotFoundException: a missing group is deleted already (§8.1).
      if (!group) return {};
      if (group.query_string === null) throw staticGroupRefused(this.ctx.arns.thingGroup(name));
      if (expectedVersion !== undefined && expectedVersion !== Number(group.version)) {
        throw new DomainError('VersionConflictException', `The version for thing group ${name} does not match the expected version.`);
      }
      // Members leave as they would a static group: CONTINUOUS jobs remove their QUEUED executions (§8.4).
      await removeAllMembers(tx, this.events, name);
      await tx.dynamicGroups.deleteSources(name);
      await tx.thingGroups.delete(name);
      await tx.fleetIndex.bumpDynamicGeneration();
      await tx.tags.removeAll(this.ctx.arns.thingGroup(name));
      return {};
    });
  }

  /**
   * One part of many things' documents changed at once (a static or billing group deleted with its
   * members): the dynamic groups reading it are swept again, in the background.
   */
  async manyChanged(tx: Store, source: DocumentSource): Promise<void> {
    const concerned = await tx.dynamicGroups.concerned([source]);
    for (const { groupName } of concerned) {
      const group = await tx.thingGroups.getForUpdate(groupName);
      if (!group || group.query_string === null) continue;
      const predicate = JSON.parse(group.predicate!) as IndexPredicate;
      await this.rebuild(tx, group, group.query_string, predicate, sourcesOf(predicate));
    }
    if (concerned.length > 0) tx.afterCommit(() => this.onBuildDue());
  }

  /** Whether any dynamic group exists (thing indexing cannot be turned OFF then, §3.4). */
  async exist(tx: Store): Promise<boolean> {
    return (await tx.dynamicGroups.count()) > 0;
  }

  /**
   * UpdateIndexingConfiguration changed what is indexed: every dynamic query is resolved again
   * (a field of a source no longer indexed matches nothing, §11 #14) and swept again.
   */
  async configurationChanged(tx: Store, config: ThingIndexingConfiguration): Promise<void> {
    const groups = await tx.dynamicGroups.all();
    for (const g of groups) {
      const compiled = compileGroupQuery(g.query_string!, config, this.limits);
      await this.rebuild(tx, g, g.query_string!, compiled.predicate, compiled.sources);
    }
    if (groups.length > 0) tx.afterCommit(() => this.onBuildDue());
  }

  private async rebuild(tx: Store, group: ThingGroupRow, queryString: string, predicate: unknown, sources: string[]): Promise<void> {
    await tx.thingGroups.setQuery(group.group_name, {
      query_string: queryString,
      predicate: JSON.stringify(predicate),
      dynamic_status: 'REBUILDING',
      build_after: null,
      build_done: 0,
      build_generation: Number(group.build_generation ?? 0) + 1,
      build_not_before: this.ctx.clock.now() + this.settings.indexBuildDelayMs,
    });
    await tx.dynamicGroups.putSources(group.group_name, sources);
    await tx.fleetIndex.bumpDynamicGeneration();
  }

  /**
   * A new query is swept once it has committed (so that every change from then on sees the group):
   * first the barrier (writers that began before may not have seen it), then batches, in the
   * request itself up to SYNC_STEPS (a small registry is ACTIVE when the request returns); the
   * rest is the `dynamic-group-build` reconciler's. A failure here leaves the sweep to it too.
   */
  private async sweepNow(name: string): Promise<void> {
    try {
      for (let i = 0; i < SYNC_STEPS; i++) if (!(await this.step(name))) break;
    } catch (err) {
      this.log?.warn({ err, thingGroupName: name }, 'dynamic group sweep left to the background');
    }
    const row = await this.ctx.store.thingGroups.get(name);
    if (row && row.query_string !== null && row.dynamic_status !== 'ACTIVE') this.onBuildDue();
  }

  /**
   * One sweep step of the group, in its own transaction (the group row locked: a newer query or a
   * deletion waits, and another node's step does not run the same batch); true when another is due.
   */
  async step(name: string): Promise<boolean> {
    const before = await this.ctx.store.thingGroups.get(name);
    if (!before || before.query_string === null || before.dynamic_status === 'ACTIVE') return false;
    if (before.build_after === null && before.build_done !== 1) await this.ctx.store.dynamicGroups.documentWritersBarrier();
    return this.ctx.store.transaction(async (tx) => {
      const group = await tx.thingGroups.getForUpdate(name);
      if (!group || group.query_string === null || group.dynamic_status === 'ACTIVE') return false;
      return this.membership.sweepStep(tx, group, (notBefore) => this.ctx.clock.now() >= notBefore);
    });
  }

  private async requireDynamic(tx: Store, name: string): Promise<ThingGroupRow> {
    const group = await tx.thingGroups.getForUpdate(name);
    if (!group) throw thingGroupNotFound(name);
    if (group.query_string === null) throw staticGroupRefused(this.ctx.arns.thingGroup(name));
    return group;
  }

  /** Thing indexing must be on (§1 rule 1: AWS's text for CreateDynamicThingGroup). */
  private async thingConfig(tx: Store): Promise<ThingIndexingConfiguration> {
    const { config } = readState(await tx.fleetIndex.getConfig());
    if (config.thing.thingIndexingMode === 'OFF') throw new DomainError('ResourceNotFoundException', NOT_ENABLED);
    return config.thing;
  }

  private checkQueryInput(e: FieldErrors, input: QueryInput, required: boolean): { queryString?: string } {
    const indexName = e.string(input.indexName, 'indexName', { min: 1, max: 128, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '[a-zA-Z0-9:_-]+' });
    const queryString = e.string(input.queryString, 'queryString', { required, min: 1 });
    const queryVersion = e.string(input.queryVersion, 'queryVersion');
    if (indexName !== undefined && indexName !== INDEX_NAME) e.add(indexName, 'indexName', `Dynamic thing groups query the ${INDEX_NAME} index only`);
    if (queryVersion !== undefined && queryVersion !== QUERY_VERSION) e.add(queryVersion, 'queryVersion', `The only query version is ${QUERY_VERSION}`);
    if (queryString !== undefined && queryString.length > this.limits.maxQueryLength) e.add(queryString.slice(0, 32), 'queryString', `Member must have length less than or equal to ${this.limits.maxQueryLength}`);
    return { queryString };
  }
}
