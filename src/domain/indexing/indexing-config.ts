import { DomainError } from '../errors.js';
import { FieldErrors } from '../validation.js';

/**
 * The indexing configuration (fleet-indexing.md §3): shapes, AWS's validation (§3.4) and the
 * managed fields GetIndexingConfiguration computes (§3.3). Pure.
 */

export type FieldType = 'Number' | 'String' | 'Boolean';
export interface IndexField {
  name: string;
  type: FieldType;
}

export interface ThingIndexingConfiguration {
  thingIndexingMode: 'OFF' | 'REGISTRY' | 'REGISTRY_AND_SHADOW';
  thingConnectivityIndexingMode: 'OFF' | 'STATUS';
  deviceDefenderIndexingMode?: 'OFF' | 'VIOLATIONS';
  namedShadowIndexingMode?: 'OFF' | 'ON';
  customFields?: IndexField[];
  filter?: {
    namedShadowNames?: string[];
    geoLocations?: { name: string; order: 'LatLon' | 'LonLat' }[];
    connectivity?: { includeSocketInformation?: string[] };
  };
}

export interface ThingGroupIndexingConfiguration {
  thingGroupIndexingMode: 'OFF' | 'ON';
  customFields?: IndexField[];
}

export interface IndexingConfiguration {
  thing: ThingIndexingConfiguration;
  group: ThingGroupIndexingConfiguration;
}

export interface IndexingSettings {
  /** Named shadows indexed besides `$package` (AWS's default quota 10). */
  maxNamedShadows: number;
  maxGeoLocations: number;
  /** Custom fields per index (2023 guide: 5). */
  maxCustomFields: number;
  /** `indexBuildDelayMs` / FLEETJOBS_INDEX_BUILD_DELAY_MS: a build is reported BUILDING at least this long. */
  indexBuildDelayMs: number;
}

export const DEFAULT_INDEXING_SETTINGS: IndexingSettings = { maxNamedShadows: 10, maxGeoLocations: 1, maxCustomFields: 5, indexBuildDelayMs: 0 };

export const NEVER_CONFIGURED: IndexingConfiguration = {
  thing: { thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'OFF' },
  group: { thingGroupIndexingMode: 'OFF' },
};

export const PACKAGE_SHADOW_NAME = '$package';

const THING_MODES = ['OFF', 'REGISTRY', 'REGISTRY_AND_SHADOW'] as const;
const FIELD_TYPES = ['Number', 'String', 'Boolean'] as const;
const SHADOW_NAME = /^[$a-zA-Z0-9:_-]+$/;
/** A custom field's segments: `[A-Za-z0-9_-]`, `$` (the `$package` shadow) and the `*` shadow wildcard. */
const FIELD_SEGMENT = /^[A-Za-z0-9_$*-]+$/;

/** Managed fields per source (§3.3). */
export function managedThingFields(c: ThingIndexingConfiguration): IndexField[] {
  if (c.thingIndexingMode === 'OFF') return [];
  const out: IndexField[] = [
    { name: 'thingId', type: 'String' },
    { name: 'thingName', type: 'String' },
    { name: 'registry.version', type: 'Number' },
    { name: 'registry.thingTypeName', type: 'String' },
    { name: 'registry.thingGroupNames', type: 'String' },
  ];
  if (c.thingIndexingMode === 'REGISTRY_AND_SHADOW') out.push({ name: 'shadow.version', type: 'Number' }, { name: 'shadow.hasDelta', type: 'Boolean' });
  if (c.namedShadowIndexingMode === 'ON') out.push({ name: 'shadow.name.*.version', type: 'Number' }, { name: 'shadow.name.*.hasDelta', type: 'Boolean' });
  if (c.thingConnectivityIndexingMode === 'STATUS') {
    out.push(
      { name: 'connectivity.timestamp', type: 'Number' },
      { name: 'connectivity.version', type: 'Number' },
      { name: 'connectivity.connected', type: 'Boolean' },
      { name: 'connectivity.disconnectReason', type: 'String' },
    );
  }
  if (c.deviceDefenderIndexingMode === 'VIOLATIONS') out.push({ name: 'deviceDefender.violationCount', type: 'Number' });
  return out;
}

export function managedGroupFields(c: ThingGroupIndexingConfiguration): IndexField[] {
  if (c.thingGroupIndexingMode === 'OFF') return [];
  return [
    { name: 'description', type: 'String' },
    { name: 'parentGroupNames', type: 'String' },
    { name: 'thingGroupId', type: 'String' },
    { name: 'thingGroupName', type: 'String' },
    { name: 'version', type: 'Number' },
  ];
}

/** The named shadows whose values are indexed ('' = the classic shadow), per the configuration. */
export function indexedShadowNames(c: ThingIndexingConfiguration): string[] {
  if (c.thingIndexingMode === 'OFF') return [];
  const names: string[] = c.thingIndexingMode === 'REGISTRY_AND_SHADOW' ? [''] : [];
  if (c.namedShadowIndexingMode === 'ON') names.push(...(c.filter?.namedShadowNames ?? []));
  return names;
}

/** GetIndexingConfiguration's answer. */
export function configurationView(config: IndexingConfiguration) {
  const t = config.thing;
  const g = config.group;
  const thingManaged = managedThingFields(t);
  const groupManaged = managedGroupFields(g);
  return {
    thingIndexingConfiguration: {
      thingIndexingMode: t.thingIndexingMode,
      thingConnectivityIndexingMode: t.thingConnectivityIndexingMode,
      ...(t.deviceDefenderIndexingMode !== undefined ? { deviceDefenderIndexingMode: t.deviceDefenderIndexingMode } : {}),
      ...(t.namedShadowIndexingMode !== undefined ? { namedShadowIndexingMode: t.namedShadowIndexingMode } : {}),
      ...(thingManaged.length > 0 ? { managedFields: thingManaged } : {}),
      ...(t.customFields !== undefined && t.customFields.length > 0 ? { customFields: t.customFields } : {}),
      ...(t.filter !== undefined ? { filter: t.filter } : {}),
    },
    thingGroupIndexingConfiguration: {
      thingGroupIndexingMode: g.thingGroupIndexingMode,
      ...(groupManaged.length > 0 ? { managedFields: groupManaged } : {}),
      ...(g.customFields !== undefined && g.customFields.length > 0 ? { customFields: g.customFields } : {}),
    },
  };
}

/**
 * UpdateIndexingConfiguration's input, checked (§3.4): each sub-configuration present replaces the
 * stored one whole (omitted members are OFF / cleared, §11 #15); an absent one stays.
 */
export function checkUpdate(input: { thingIndexingConfiguration?: unknown; thingGroupIndexingConfiguration?: unknown }, current: IndexingConfiguration, settings: IndexingSettings): IndexingConfiguration {
  const e = new FieldErrors('InvalidRequestException');
  const t = e.object(input.thingIndexingConfiguration, 'thingIndexingConfiguration');
  const g = e.object(input.thingGroupIndexingConfiguration, 'thingGroupIndexingConfiguration');
  e.throwIfAny();
  const thing = t === undefined ? current.thing : checkThingConfig(t, settings);
  const group = g === undefined ? current.group : checkGroupConfig(g, settings);
  return { thing, group };
}

function checkThingConfig(t: Record<string, unknown>, settings: IndexingSettings): ThingIndexingConfiguration {
  const p = 'thingIndexingConfiguration';
  const e = new FieldErrors('InvalidRequestException');
  const mode = e.string(t.thingIndexingMode, `${p}.thingIndexingMode`, { required: true, enum: THING_MODES });
  const connectivity = e.string(t.thingConnectivityIndexingMode, `${p}.thingConnectivityIndexingMode`, { enum: ['OFF', 'STATUS'] });
  const defender = e.string(t.deviceDefenderIndexingMode, `${p}.deviceDefenderIndexingMode`, { enum: ['OFF', 'VIOLATIONS'] });
  const named = e.string(t.namedShadowIndexingMode, `${p}.namedShadowIndexingMode`, { enum: ['OFF', 'ON'] });
  const customFields = checkFields(e, t.customFields, `${p}.customFields`);
  const filterIn = e.object(t.filter, `${p}.filter`);
  let filter: ThingIndexingConfiguration['filter'];
  if (filterIn) {
    filter = {};
    const names = e.array(filterIn.namedShadowNames, `${p}.filter.namedShadowNames`);
    if (names) {
      filter.namedShadowNames = [];
      names.forEach((n, i) => {
        const name = e.string(n, `${p}.filter.namedShadowNames.${i + 1}.member`, { required: true, min: 1, max: 64, pattern: SHADOW_NAME, patternText: '[$a-zA-Z0-9:_-]+' });
        if (name !== undefined && !filter!.namedShadowNames!.includes(name)) filter!.namedShadowNames!.push(name);
      });
    }
    const geo = e.array(filterIn.geoLocations, `${p}.filter.geoLocations`);
    if (geo) {
      filter.geoLocations = [];
      geo.forEach((gl, i) => {
        const o = e.object(gl, `${p}.filter.geoLocations.${i + 1}.member`, true);
        if (!o) return;
        const name = e.string(o.name, `${p}.filter.geoLocations.${i + 1}.member.name`, { required: true, min: 1 });
        const order = e.string(o.order, `${p}.filter.geoLocations.${i + 1}.member.order`, { enum: ['LatLon', 'LonLat'] }) ?? 'LatLon';
        if (name !== undefined) filter!.geoLocations!.push({ name, order: order as 'LatLon' });
      });
    }
    const conn = e.object(filterIn.connectivity, `${p}.filter.connectivity`);
    if (conn) {
      const inc = e.array(conn.includeSocketInformation, `${p}.filter.connectivity.includeSocketInformation`) ?? [];
      const values = inc.map((v, i) => e.string(v, `${p}.filter.connectivity.includeSocketInformation.${i + 1}.member`, { required: true, enum: ['GET_THING_CONNECTIVITY_DATA'] }));
      filter.connectivity = { includeSocketInformation: values.filter((v): v is string => v !== undefined) };
    }
  }
  e.throwIfAny();
  const config: ThingIndexingConfiguration = {
    thingIndexingMode: mode as ThingIndexingConfiguration['thingIndexingMode'],
    thingConnectivityIndexingMode: (connectivity ?? 'OFF') as 'OFF',
    ...(defender !== undefined ? { deviceDefenderIndexingMode: defender as 'OFF' } : {}),
    ...(named !== undefined ? { namedShadowIndexingMode: named as 'OFF' } : {}),
    ...(customFields !== undefined ? { customFields } : {}),
    ...(filter !== undefined ? { filter } : {}),
  };
  const refuse = (message: string): never => {
    throw new DomainError('InvalidRequestException', message);
  };
  if (config.thingIndexingMode === 'OFF') {
    if (config.thingConnectivityIndexingMode === 'STATUS') refuse('thingConnectivityIndexingMode STATUS requires thingIndexingMode other than OFF: thingIndexMode must not be set to OFF');
    if (config.deviceDefenderIndexingMode === 'VIOLATIONS') refuse('deviceDefenderIndexingMode VIOLATIONS requires thingIndexingMode other than OFF: thingIndexMode must not be set to OFF');
    if (config.namedShadowIndexingMode === 'ON') refuse('namedShadowIndexingMode ON requires thingIndexingMode other than OFF: thingIndexMode must not be set to OFF');
  }
  const counted = (config.filter?.namedShadowNames ?? []).filter((n) => n !== PACKAGE_SHADOW_NAME);
  if (counted.length > settings.maxNamedShadows) {
    refuse(`The number of named shadows in the filter (${counted.length}) exceeds the limit of ${settings.maxNamedShadows} ($package is not counted).`);
  }
  if ((config.filter?.geoLocations?.length ?? 0) > settings.maxGeoLocations) refuse(`The number of geoLocations exceeds the limit of ${settings.maxGeoLocations}.`);
  checkCustomFields(config.customFields ?? [], managedThingFields(config), settings, (name) => thingFieldAllowed(name, config));
  return config;
}

function checkGroupConfig(g: Record<string, unknown>, settings: IndexingSettings): ThingGroupIndexingConfiguration {
  const p = 'thingGroupIndexingConfiguration';
  const e = new FieldErrors('InvalidRequestException');
  const mode = e.string(g.thingGroupIndexingMode, `${p}.thingGroupIndexingMode`, { required: true, enum: ['OFF', 'ON'] });
  const customFields = checkFields(e, g.customFields, `${p}.customFields`);
  e.throwIfAny();
  const config: ThingGroupIndexingConfiguration = { thingGroupIndexingMode: mode as 'OFF', ...(customFields !== undefined ? { customFields } : {}) };
  if (config.thingGroupIndexingMode === 'OFF' && (customFields?.length ?? 0) > 0) {
    throw new DomainError('InvalidRequestException', 'Custom fields require thingGroupIndexingMode ON.');
  }
  checkCustomFields(config.customFields ?? [], managedGroupFields(config), settings, (name) => name.startsWith('attributes.') ? undefined : 'only attributes.* fields can be custom fields of thing groups');
  return config;
}

function checkFields(e: FieldErrors, value: unknown, path: string): IndexField[] | undefined {
  const list = e.array(value, path);
  if (list === undefined) return undefined;
  const out: IndexField[] = [];
  list.forEach((f, i) => {
    const o = e.object(f, `${path}.${i + 1}.member`, true);
    if (!o) return;
    const name = e.string(o.name, `${path}.${i + 1}.member.name`, { required: true, min: 1 });
    const type = e.string(o.type, `${path}.${i + 1}.member.type`, { required: true, enum: FIELD_TYPES });
    if (name !== undefined && type !== undefined) out.push({ name, type: type as FieldType });
  });
  return out;
}

function checkCustomFields(fields: IndexField[], managed: IndexField[], settings: IndexingSettings, allowed: (name: string) => string | undefined): void {
  const refuse = (message: string): never => {
    throw new DomainError('InvalidRequestException', message);
  };
  if (fields.length > settings.maxCustomFields) refuse(`The number of custom fields (${fields.length}) exceeds the limit of ${settings.maxCustomFields}.`);
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) refuse(`Custom field ${f.name} is listed more than once.`);
    seen.add(f.name);
    if (managed.some((m) => m.name === f.name)) refuse(`Custom field ${f.name} is a managed field.`);
    if (!f.name.split('.').every((s) => FIELD_SEGMENT.test(s))) refuse(`Custom field name ${f.name} is not valid: each segment must match [A-Za-z0-9_$*-]+.`);
    const why = allowed(f.name);
    if (why !== undefined) refuse(`Custom field ${f.name} is not indexed by the indexing mode: ${why}.`);
  }
}

/** Why a custom field is not indexed by this configuration (undefined: it is). */
function thingFieldAllowed(name: string, c: ThingIndexingConfiguration): string | undefined {
  if (name.startsWith('attributes.')) return c.thingIndexingMode === 'OFF' ? 'thing indexing is OFF' : undefined;
  if (name.startsWith('shadow.desired.') || name.startsWith('shadow.reported.')) {
    return c.thingIndexingMode === 'REGISTRY_AND_SHADOW' ? undefined : 'shadow fields need thingIndexingMode REGISTRY_AND_SHADOW';
  }
  if (/^shadow\.name\.[^.]+\.(desired|reported)\./.test(name)) return c.namedShadowIndexingMode === 'ON' ? undefined : 'named shadow fields need namedShadowIndexingMode ON';
  if (name.startsWith('deviceDefender.')) return c.deviceDefenderIndexingMode === 'VIOLATIONS' ? undefined : 'Device Defender fields need deviceDefenderIndexingMode VIOLATIONS';
  return 'custom fields are attributes.*, shadow.desired.*, shadow.reported.*, shadow.name.*.desired.*, shadow.name.*.reported.* or deviceDefender.*';
}
