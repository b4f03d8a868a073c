import type { AggregationSource } from '../../store/fleet-index-aggregations.js';
import type { IndexPredicate } from '../../store/fleet-index-query.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { FieldErrors } from '../validation.js';
import { checkLimits, DEFAULT_QUERY_LIMITS, resolveThingQuery } from './index-fields.js';
import { readState } from './index-state.js';
import { indexedShadowNames, managedThingFields, type FieldType, type ThingIndexingConfiguration } from './indexing-config.js';
import { NOT_ENABLED } from './fleet-index-service.js';
import { parseQuery } from './query-parser.js';

/** GetPercentiles' default percents (fleet-indexing.md §7). */
const DEFAULT_PERCENTS = [1, 5, 25, 50, 75, 95, 99];

interface AggregationInput {
  indexName?: unknown;
  queryString?: unknown;
  aggregationField?: unknown;
  queryVersion?: unknown;
}

/**
 * The four aggregations over AWS_Things (fleet-indexing.md §7): the query selects things as
 * SearchIndex does, the field must be a managed or custom field of the configuration, and its type
 * decides what is computed. Everything is computed in SQL; percentiles read one value per rank.
 */
export class AggregationService {
  constructor(private readonly ctx: DomainContext) {}

  async getStatistics(input: AggregationInput) {
    const { predicate, source, type } = await this.prepare(input, false);
    const store = this.ctx.store.fleetAggregations;
    if (type === 'String') return { statistics: { count: await store.countWithValue(predicate, source) } };
    const s = await store.numeric(predicate, source);
    if (s.count === 0) return { statistics: { count: 0 } };
    const average = s.sum / s.count;
    const variance = Math.max(0, s.sumOfSquares / s.count - average * average);
    if (![s.sum, s.sumOfSquares, average, variance].every(Number.isFinite)) return { statistics: {} };
    return {
      statistics: {
        count: s.count, average, sum: s.sum, minimum: s.min, maximum: s.max,
        sumOfSquares: s.sumOfSquares, variance, stdDeviation: Math.sqrt(variance),
      },
    };
  }

  async getCardinality(input: AggregationInput) {
    const { predicate, source } = await this.prepare(input, false);
    return { cardinality: await this.ctx.store.fleetAggregations.cardinality(predicate, source) };
  }

  async getPercentiles(input: AggregationInput & { percents?: unknown }) {
    const e = new FieldErrors('InvalidRequestException');
    const list = e.array(input.percents, 'percents', { max: 100 });
    const percents = list === undefined ? DEFAULT_PERCENTS
      : list.map((p, i) => e.number(p, `percents.${i + 1}.member`, { required: true, min: 0, max: 100 }) ?? 0);
    e.throwIfAny();
    const { predicate, source, type, field } = await this.prepare(input, false);
    if (type !== 'Number') throw new DomainError('InvalidAggregationException', `Percentiles need a Number field; ${field} is ${type}.`);
    const store = this.ctx.store.fleetAggregations;
    const { count } = await store.numeric(predicate, source);
    if (count === 0) return { percentiles: [] };
    // Linear interpolation at rank p/100 · (n − 1) (§11 #17).
    const out: { percent: number; value: number }[] = [];
    for (const percent of percents) {
      const rank = (percent / 100) * (count - 1);
      const lo = await store.numericAt(predicate, source, Math.floor(rank));
      const hi = rank === Math.floor(rank) ? lo : await store.numericAt(predicate, source, Math.ceil(rank));
      out.push({ percent, value: lo + (hi - lo) * (rank - Math.floor(rank)) });
    }
    return { percentiles: out };
  }

  async getBucketsAggregation(input: AggregationInput & { bucketsAggregationType?: unknown }) {
    const e = new FieldErrors('InvalidRequestException');
    const type = e.object(input.bucketsAggregationType, 'bucketsAggregationType', true);
    const terms = type ? e.object(type.termsAggregation, 'bucketsAggregationType.termsAggregation') : undefined;
    const maxBuckets = terms ? e.number(terms.maxBuckets, 'bucketsAggregationType.termsAggregation.maxBuckets', { integer: true, min: 1, max: 10000 }) : undefined;
    e.throwIfAny();
    const { predicate, source } = await this.prepare(input, true);
    const store = this.ctx.store.fleetAggregations;
    return { totalCount: await store.countMatching(predicate), buckets: await store.buckets(predicate, source, maxBuckets ?? 10) };
  }

  private async prepare(input: AggregationInput, fieldRequired: boolean) {
    const e = new FieldErrors('InvalidRequestException');
    const indexName = e.string(input.indexName, 'indexName', { min: 1, max: 128, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '[a-zA-Z0-9:_-]+' }) ?? 'AWS_Things';
    const query = e.string(input.queryString, 'queryString', { required: true, min: 1 });
    const field = e.string(input.aggregationField, 'aggregationField', { required: fieldRequired, min: 1 }) ?? 'registry.version';
    const version = e.string(input.queryVersion, 'queryVersion');
    e.throwIfAny();
    if (version !== undefined && version !== '2017-09-30') throw new DomainError('InvalidRequestException', `Unsupported query version ${version}; the only query version is 2017-09-30.`);
    const state = readState(await this.ctx.store.fleetIndex.getConfig());
    if (indexName !== 'AWS_Things' && indexName !== 'AWS_ThingGroups') throw new DomainError('ResourceNotFoundException', `Index ${indexName} does not exist.`);
    const config = state.config.thing;
    if (indexName === 'AWS_ThingGroups') {
      if (state.config.group.thingGroupIndexingMode !== 'ON') throw new DomainError('ResourceNotFoundException', NOT_ENABLED);
      throw new DomainError('InvalidAggregationException', 'Aggregations are answered on the AWS_Things index only.');
    }
    if (config.thingIndexingMode === 'OFF') throw new DomainError('ResourceNotFoundException', NOT_ENABLED);
    if (state.thingStatus === 'BUILDING') throw new DomainError('IndexNotReadyException', 'The index is not ready.');
    const node = parseQuery(query!);
    checkLimits(query!, node, DEFAULT_QUERY_LIMITS);
    const predicate: IndexPredicate = resolveThingQuery(query!, node, config);
    const { source, type } = aggregationField(field, config);
    return { predicate, source, type, field };
  }
}

/** The field's values and type: a managed or custom field of the configuration (§7), else InvalidAggregationException. */
function aggregationField(field: string, c: ThingIndexingConfiguration): { source: AggregationSource; type: FieldType } {
  const declared = [...managedThingFields(c), ...(c.customFields ?? [])].find((f) => f.name === field);
  if (!declared) throw new DomainError('InvalidAggregationException', `${field} is not a managed or custom field of the index.`);
  const type = declared.type;
  const shadows = indexedShadowNames(c);
  const named = shadows.filter((n) => n !== '');
  const source = ((): AggregationSource => {
    switch (field) {
      case 'thingName': return { kind: 'thingColumn', column: 'thing_name' };
      case 'thingId': return { kind: 'thingColumn', column: 'thing_id' };
      case 'registry.thingTypeName': return { kind: 'thingColumn', column: 'thing_type_name' };
      case 'registry.version': return { kind: 'thingColumn', column: 'version' };
      case 'registry.thingGroupNames': return { kind: 'thingGroups' };
      case 'shadow.version': return { kind: 'shadowVersion', shadowNames: shadows.includes('') ? [''] : [] };
      case 'shadow.name.*.version': return { kind: 'shadowVersion', shadowNames: named };
      case 'shadow.name.*.hasDelta': return { kind: 'shadowValue', field, shadowNames: named };
      case 'connectivity.connected': return { kind: 'connectivity', column: 'connected' };
      case 'connectivity.timestamp': return { kind: 'connectivity', column: 'timestamp' };
      case 'connectivity.version': return { kind: 'connectivity', column: 'version' };
      case 'connectivity.disconnectReason': return { kind: 'connectivity', column: 'disconnect_reason' };
      default:
    }
    if (field.startsWith('attributes.')) return { kind: 'attribute', name: field.slice('attributes.'.length) };
    if (field.startsWith('shadow.name.')) {
      const name = field.slice('shadow.name.'.length).split('.')[0];
      return { kind: 'shadowValue', field, shadowNames: name === '*' ? named : named.filter((n) => n === name) };
    }
    if (field.startsWith('shadow.')) return { kind: 'shadowValue', field, shadowNames: shadows.includes('') ? [''] : [] };
    throw new DomainError('InvalidAggregationException', `${field} cannot be aggregated here.`);
  })();
  return { source, type };
}
