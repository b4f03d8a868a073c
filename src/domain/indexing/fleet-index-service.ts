import type { FleetIndexingRow } from '../../store/fleet-index.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { decodeToken, encodeToken, isString, pageSize } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import { DocumentChanges } from './document-changes.js';
import { IndexBuild } from './index-build.js';
import { readState, type IndexState } from './index-state.js';
import { checkLimits, DEFAULT_QUERY_LIMITS, resolveGroupQuery, resolveThingQuery, type IndexName, type QueryLimits } from './index-fields.js';
import {
  checkUpdate, configurationView, DEFAULT_INDEXING_SETTINGS,
  type IndexingConfiguration, type IndexingSettings, type ThingIndexingConfiguration,
} from './indexing-config.js';
import { parseQuery } from './query-parser.js';
import { groupDocuments, thingDocuments } from './search-documents.js';

export const NOT_ENABLED = 'AWS IoT Fleet Indexing is not enabled. Please enable index by calling UpdateIndexingConfiguration.';
const INDEX_NAMES: readonly IndexName[] = ['AWS_Things', 'AWS_ThingGroups'];
const QUERY_VERSION = '2017-09-30';
/** SearchIndex pages (§5.3): at most 100, more is clamped, 100 by default. */
const MAX_PAGE = 100;

/**
 * Fleet indexing (fleet-indexing.md §2–§6, issue 12): the configuration, the two indices and
 * SearchIndex. The index follows every change in the change's own transaction: the registry is
 * searched in place, shadows call `indexShadow` where they are written, connectivity is recorded
 * by the MQTT door (`recordConnectivity`). Enabling the index starts a build (`index-build.ts`).
 */
export class FleetIndexService {
  readonly settings: IndexingSettings;
  /** Told after a commit that made build work due (the engine is poked). */
  onBuildDue: () => void = () => undefined;
  /** Dynamic thing groups, once wired: they hold thing indexing on and follow its configuration. */
  dynamicGroups: DynamicGroupsOfIndex = { exist: async () => false, configurationChanged: async () => undefined };

  constructor(
    private readonly ctx: DomainContext,
    settings: Partial<IndexingSettings> = {},
    private readonly limits: QueryLimits = DEFAULT_QUERY_LIMITS,
    private readonly documents: DocumentChanges = new DocumentChanges(),
  ) {
    this.settings = { ...DEFAULT_INDEXING_SETTINGS, ...settings };
  }

  async getIndexingConfiguration() {
    return configurationView(readState(await this.ctx.store.fleetIndex.getConfig()).config);
  }

  async updateIndexingConfiguration(input: { thingIndexingConfiguration?: unknown; thingGroupIndexingConfiguration?: unknown }): Promise<Record<string, never>> {
    return this.ctx.store.transaction(async (tx) => {
      const current = readState(await tx.fleetIndex.getConfig({ forUpdate: true }));
      const next = checkUpdate(input, current.config, this.settings);
      const wasOn = current.config.thing.thingIndexingMode !== 'OFF';
      const isOn = next.thing.thingIndexingMode !== 'OFF';
      if (wasOn && !isOn && (await this.dynamicGroups.exist(tx))) {
        throw new DomainError('InvalidRequestException', 'Thing indexing cannot be disabled while dynamic thing groups exist: you cannot disable it until you delete all of your dynamic thing groups.');
      }
      const now = this.ctx.clock.now();
      const changed = JSON.stringify(next.thing) !== JSON.stringify(current.config.thing);
      const row = current.row;
      let build: Pick<FleetIndexingRow, 'thing_status' | 'generation' | 'build_after_thing' | 'build_after_shadow' | 'build_done' | 'build_not_before'>;
      if (isOn && (!wasOn || changed)) {
        // First enable → BUILDING (queries wait); a later change → REBUILDING (queries work, §3.2).
        build = {
          thing_status: wasOn ? 'REBUILDING' : 'BUILDING',
          generation: (row?.generation ?? 0) + 1,
          build_after_thing: null,
          build_after_shadow: null,
          build_done: 0,
          build_not_before: now + this.settings.indexBuildDelayMs,
        };
        tx.afterCommit(() => this.onBuildDue());
      } else if (!isOn) {
        build = { thing_status: 'ACTIVE', generation: (row?.generation ?? 0) + 1, build_after_thing: null, build_after_shadow: null, build_done: 1, build_not_before: now };
      } else {
        build = {
          thing_status: row!.thing_status, generation: row!.generation, build_after_thing: row!.build_after_thing,
          build_after_shadow: row!.build_after_shadow, build_done: row!.build_done, build_not_before: row!.build_not_before,
        };
      }
      await tx.fleetIndex.putConfig({ thing_config: JSON.stringify(next.thing), group_config: JSON.stringify(next.group), ...build, updated_at: now });
      // A registry small enough for one build step is indexed at once (ACTIVE without a delay,
      // fleet-indexing.md §11 #1); a larger one goes on in the background.
      if (build.build_done === 0) await new IndexBuild(this.ctx).stepIn(tx);
      // Dynamic queries are resolved against what is indexed now, and swept again.
      if (isOn && changed) await this.dynamicGroups.configurationChanged(tx, next.thing);
      return {};
    });
  }

  async listIndices(input: { nextToken?: unknown; maxResults?: unknown }) {
    const e = new FieldErrors('InvalidRequestException');
    const limit = pageSize(e, input.maxResults, 500, 500);
    const token = e.string(input.nextToken, 'nextToken');
    e.throwIfAny();
    const after = decodeToken('indices', token, 'InvalidRequestException', isString);
    const { config } = readState(await this.ctx.store.fleetIndex.getConfig());
    // Listed in AWS_Things, AWS_ThingGroups order; the token names the last one listed.
    const enabled = this.enabledIndices(config);
    const names = after === undefined ? enabled : enabled.slice(enabled.indexOf(after as IndexName) + 1);
    const items = names.slice(0, limit);
    return { indexNames: items, ...(names.length > limit ? { nextToken: encodeToken('indices', items[items.length - 1]) } : {}) };
  }

  async describeIndex(input: { indexName?: unknown }) {
    const name = typeof input.indexName === 'string' ? input.indexName : '';
    const state = readState(await this.ctx.store.fleetIndex.getConfig());
    if (!this.enabledIndices(state.config).includes(name as IndexName)) throw new DomainError('ResourceNotFoundException', `Index ${name} does not exist.`);
    if (name === 'AWS_ThingGroups') return { indexName: name, indexStatus: 'ACTIVE', schema: 'THING_GROUPS' };
    return { indexName: name, indexStatus: state.thingStatus, schema: thingSchema(state.config.thing) };
  }

  async searchIndex(input: { indexName?: unknown; queryString?: unknown; nextToken?: unknown; maxResults?: unknown; queryVersion?: unknown }) {
    const e = new FieldErrors('InvalidRequestException');
    const indexName = e.string(input.indexName, 'indexName', { min: 1, max: 128, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '[a-zA-Z0-9:_-]+' }) ?? 'AWS_Things';
    const query = e.string(input.queryString, 'queryString', { required: true, min: 1 });
    const token = e.string(input.nextToken, 'nextToken');
    const max = e.number(input.maxResults, 'maxResults', { integer: true, min: 1 });
    const version = e.string(input.queryVersion, 'queryVersion');
    e.throwIfAny();
    if (version !== undefined && version !== QUERY_VERSION) throw new DomainError('InvalidRequestException', `Unsupported query version ${version}; the only query version is ${QUERY_VERSION}.`);
    if (query!.length > this.limits.maxQueryLength) throw new DomainError('InvalidQueryException', `Unable to parse query, the query is longer than ${this.limits.maxQueryLength} characters, query string: ${query}`);
    const limit = Math.min(max ?? MAX_PAGE, MAX_PAGE);
    const store = this.ctx.store;
    const state = readState(await store.fleetIndex.getConfig());
    this.requireSearchable(state, indexName);
    const node = parseQuery(query!);
    checkLimits(query!, node, this.limits);
    const list = `search:${indexName}:${query}`;
    const after = decodeToken(list, token, 'InvalidRequestException', isString);
    if (indexName === 'AWS_ThingGroups') {
      const rows = await store.fleetIndex.searchGroups(resolveGroupQuery(query!, node), after, limit + 1);
      const items = rows.slice(0, limit);
      const nextToken = rows.length > limit ? encodeToken(list, items[items.length - 1].group_name) : undefined;
      return { things: [], thingGroups: await groupDocuments(store.fleetIndex, items), ...(nextToken ? { nextToken } : {}) };
    }
    const names = await store.fleetIndex.searchThings(resolveThingQuery(query!, node, state.config.thing), after, limit + 1);
    const items = names.slice(0, limit);
    const nextToken = names.length > limit ? encodeToken(list, items[items.length - 1]) : undefined;
    return { things: await thingDocuments(store.fleetIndex, items, state.config.thing), thingGroups: [], ...(nextToken ? { nextToken } : {}) };
  }

  /** The MQTT door saw a thing connect or disconnect (§3.2: client id = thing name). */
  async recordConnectivity(thingName: string, event: { connected: boolean; disconnectReason?: string; clientId: string; keepAlive?: number; cleanSession?: boolean; sessionExpiry?: number }): Promise<void> {
    await this.ctx.store.transaction(async (tx) => {
      // Only registered things are indexed (a connection a reset or a deletion outlived is not).
      const recorded = await tx.fleetIndex.recordConnectivity({
        thing_name: thingName,
        connected: event.connected ? 1 : 0,
        timestamp: this.ctx.clock.now(),
        disconnect_reason: event.connected ? null : (event.disconnectReason ?? 'CLIENT_INITIATED_DISCONNECT'),
        client_id: event.clientId,
        keep_alive: event.keepAlive ?? null,
        clean_session: event.cleanSession === undefined ? null : event.cleanSession ? 1 : 0,
        session_expiry: event.sessionExpiry ?? null,
      });
      if (!recorded) return;
      await this.documents.changed(tx, thingName, ['connectivity']);
    });
  }

  private enabledIndices(config: IndexingConfiguration): IndexName[] {
    return INDEX_NAMES.filter((n) => (n === 'AWS_Things' ? config.thing.thingIndexingMode !== 'OFF' : config.group.thingGroupIndexingMode === 'ON'));
  }

  /** Index off or unknown → 404 with AWS's text (§1 rule 1, §11 #2); a first build → IndexNotReadyException. */
  private requireSearchable(state: IndexState, indexName: string): void {
    if (!INDEX_NAMES.includes(indexName as IndexName)) throw new DomainError('ResourceNotFoundException', `Index ${indexName} does not exist.`);
    if (!this.enabledIndices(state.config).includes(indexName as IndexName)) throw new DomainError('ResourceNotFoundException', NOT_ENABLED);
    if (indexName === 'AWS_Things' && state.thingStatus === 'BUILDING') throw new DomainError('IndexNotReadyException', 'The index is not ready.');
  }
}

/** What the index asks of dynamic thing groups (dynamic-group-service.ts). */
export interface DynamicGroupsOfIndex {
  exist(tx: Store): Promise<boolean>;
  configurationChanged(tx: Store, config: ThingIndexingConfiguration): Promise<void>;
}

/** DescribeIndex's `schema` (§4). */
function thingSchema(c: ThingIndexingConfiguration): string {
  if (c.namedShadowIndexingMode === 'ON' || c.deviceDefenderIndexingMode === 'VIOLATIONS') return 'MULTI_INDEXING_MODE';
  const status = c.thingConnectivityIndexingMode === 'STATUS' ? '_AND_CONNECTIVITY_STATUS' : '';
  return `${c.thingIndexingMode}${status}`;
}
