import type { FleetIndexStore } from '../../store/fleet-index.js';
import type { ThingGroupRow } from '../../store/thing-groups.js';
import { parseJson } from '../json.js';
import { computeDelta } from '../shadows/delta.js';
import type { JsonObject } from '../shadows/json-value.js';
import type { ShadowContent } from '../shadows/merge.js';
import { indexedShadowNames, type ThingIndexingConfiguration } from './indexing-config.js';

/**
 * What SearchIndex answers for a page of hits (fleet-indexing.md §5.2, §5.4): ThingDocument and
 * ThingGroupDocument, read in a few queries for the whole page.
 */

/** One shadow as the `shadow` string shows it: no `state` wrapper, `delta` when non-empty, `hasDelta`. */
function shadowSection(row: { document: string; version: number; updated_at: number }): JsonObject {
  const content = JSON.parse(row.document) as ShadowContent;
  const { desired, reported } = content.state;
  const delta = computeDelta(desired, reported);
  return {
    ...(desired !== undefined ? { desired } : {}),
    ...(reported !== undefined ? { reported } : {}),
    ...(delta !== undefined ? { delta } : {}),
    ...(content.metadata !== undefined ? { metadata: content.metadata as JsonObject } : {}),
    version: row.version,
    timestamp: Math.floor(row.updated_at / 1000),
    hasDelta: delta !== undefined,
  };
}

export async function thingDocuments(store: FleetIndexStore, names: string[], config: ThingIndexingConfiguration) {
  const [things, memberships, shadows, connectivity] = await Promise.all([
    store.thingsNamed(names),
    store.membershipsOf(names),
    store.shadowsOf(names, indexedShadowNames(config)),
    config.thingConnectivityIndexingMode === 'STATUS' ? store.connectivityOf(names) : Promise.resolve([]),
  ]);
  const byName = new Map(things.map((t) => [t.thing_name, t]));
  const groups = new Map<string, string[]>();
  for (const m of memberships) groups.set(m.thing_name, [...(groups.get(m.thing_name) ?? []), m.group_name]);
  const shadowDocs = new Map<string, JsonObject>();
  for (const s of shadows) {
    const doc = shadowDocs.get(s.thing_name) ?? {};
    if (s.shadow_name === '') Object.assign(doc, shadowSection(s));
    else {
      const named = (doc.name as JsonObject | undefined) ?? {};
      named[s.shadow_name] = shadowSection(s);
      doc.name = named;
    }
    shadowDocs.set(s.thing_name, doc);
  }
  const conn = new Map(connectivity.map((c) => [c.thing_name, c]));
  return names.flatMap((name) => {
    const t = byName.get(name);
    if (!t) return [];
    const groupNames = [...(groups.get(name) ?? []), ...(t.billing_group_name !== null ? [t.billing_group_name] : [])];
    const shadow = shadowDocs.get(name);
    const c = conn.get(name);
    return [{
      thingName: t.thing_name,
      thingId: t.thing_id,
      ...(t.thing_type_name !== null ? { thingTypeName: t.thing_type_name } : {}),
      ...(groupNames.length > 0 ? { thingGroupNames: groupNames } : {}),
      attributes: parseJson<Record<string, string>>(t.attributes) ?? {},
      ...(shadow !== undefined ? { shadow: JSON.stringify(shadow) } : {}),
      ...(config.thingConnectivityIndexingMode === 'STATUS'
        ? {
          connectivity: c
            ? {
              connected: c.connected === 1,
              timestamp: c.timestamp,
              ...(c.connected === 0 && c.disconnect_reason !== null ? { disconnectReason: c.disconnect_reason } : {}),
              ...(c.keep_alive !== null ? { keepAliveDuration: c.keep_alive } : {}),
              ...(c.clean_session !== null ? { cleanSession: c.clean_session === 1 } : {}),
              ...(c.session_expiry !== null ? { sessionExpiry: c.session_expiry } : {}),
              ...(c.client_id !== null ? { clientId: c.client_id } : {}),
            }
            : { connected: false },
        }
        : {}),
    }];
  });
}

export async function groupDocuments(store: FleetIndexStore, rows: ThingGroupRow[]) {
  // A group's ancestors are the groups whose paths prefix its own.
  const ancestorPaths = new Set<string>();
  for (const g of rows) {
    const parts = g.path.split('/').filter((p) => p !== '');
    for (let i = 1; i < parts.length; i++) ancestorPaths.add(`/${parts.slice(0, i).join('/')}/`);
  }
  const ancestors = new Map((await store.groupsOnPaths([...ancestorPaths])).map((a) => [a.path, a.group_name]));
  return rows.map((g) => {
    const parts = g.path.split('/').filter((p) => p !== '');
    const parents: string[] = [];
    for (let i = parts.length - 1; i >= 1; i--) {
      const name = ancestors.get(`/${parts.slice(0, i).join('/')}/`);
      if (name !== undefined) parents.push(name);
    }
    return {
      thingGroupName: g.group_name,
      thingGroupId: g.group_id,
      ...(g.description !== null ? { thingGroupDescription: g.description } : {}),
      attributes: parseJson<Record<string, string>>(g.attributes) ?? {},
      ...(parents.length > 0 ? { parentGroupNames: parents } : {}),
    };
  });
}
