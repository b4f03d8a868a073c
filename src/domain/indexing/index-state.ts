import type { FleetIndexingRow } from '../../store/fleet-index.js';
import { NEVER_CONFIGURED, type IndexingConfiguration, type ThingIndexingConfiguration } from './indexing-config.js';

export interface IndexState {
  config: IndexingConfiguration;
  row?: FleetIndexingRow;
  /** The AWS_Things index's status (meaningful while thing indexing is on). */
  thingStatus: 'ACTIVE' | 'BUILDING' | 'REBUILDING';
}

export function readState(row: FleetIndexingRow | undefined): IndexState {
  if (!row) return { config: NEVER_CONFIGURED, thingStatus: 'ACTIVE' };
  return {
    config: { thing: JSON.parse(row.thing_config) as ThingIndexingConfiguration, group: JSON.parse(row.group_config) as IndexingConfiguration['group'] },
    row,
    thingStatus: row.thing_status as IndexState['thingStatus'],
  };
}

