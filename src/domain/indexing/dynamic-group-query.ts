import type { IndexPredicate, IndexTarget } from '../../store/fleet-index-query.js';
import type { DocumentSource } from './document-changes.js';
import { checkLimits, resolveThingQuery, type QueryLimits } from './index-fields.js';
import type { ThingIndexingConfiguration } from './indexing-config.js';
import { parseQuery } from './query-parser.js';

/** A dynamic group's query, resolved against the indexing configuration, and what it reads. */
export interface CompiledGroupQuery {
  predicate: IndexPredicate;
  sources: DocumentSource[];
}

/** Parses and resolves a dynamic group's query as SearchIndex would (InvalidQueryException alike). */
export function compileGroupQuery(query: string, config: ThingIndexingConfiguration, limits: QueryLimits): CompiledGroupQuery {
  const node = parseQuery(query);
  checkLimits(query, node, limits);
  const predicate = resolveThingQuery(query, node, config);
  return { predicate, sources: sourcesOf(predicate) };
}

/**
 * The parts of a thing's document the predicate reads: a change elsewhere cannot change whether
 * the thing matches (issue 12: a shadow update re-checks only the groups whose queries mention
 * what changed). A query reading nothing that changes (`thingName:…` alone reads the registry)
 * is still decided when the thing is created.
 */
export function sourcesOf(p: IndexPredicate): DocumentSource[] {
  const cached = SOURCES.get(p);
  if (cached) return cached;
  const out = new Set<DocumentSource>();
  const visit = (n: IndexPredicate): void => {
    if (n.kind === 'leaf') for (const s of targetSources(n.target)) out.add(s);
    else if (n.kind === 'not') visit(n.item);
    else if (n.kind === 'and' || n.kind === 'or') n.items.forEach(visit);
  };
  visit(p);
  const sources = [...out].sort();
  SOURCES.set(p, sources);
  return sources;
}

/** Predicates come parsed once per text (store/dynamic-thing-groups.ts): their sources are worked out once too. */
const SOURCES = new WeakMap<IndexPredicate, DocumentSource[]>();

function targetSources(t: IndexTarget): DocumentSource[] {
  switch (t.kind) {
    case 'thingColumn':
    case 'thingVersion':
    case 'attribute':
      return ['registry'];
    case 'thingGroups':
      return ['groups'];
    case 'shadow':
      return t.shadowNames.map((n) => `shadow:${n}` as const);
    case 'connectivity':
      return ['connectivity'];
    case 'anyThingField':
      return ['registry', 'groups', ...t.shadowNames.map((n) => `shadow:${n}` as const)];
    default:
      return [];
  }
}
