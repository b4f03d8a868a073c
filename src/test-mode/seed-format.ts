import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DomainError } from '../domain/errors.js';

/**
 * The seed format (issue 13; README "Seeding"): one object whose every key is optional. Field
 * names are those of the AWS API inputs; the few the seed adds (a thing's `attributes` and
 * `thingGroups`, a version's `status`, a package's `versions`) say what the calls after the create
 * would do. This file checks only the shape; every entry is then validated by the API call it
 * stands for (seed.ts).
 */
export interface Seed {
  thingTypes: Entry[];
  thingGroups: Entry[];
  things: Entry[];
  packages: Entry[];
  shadows: Entry[];
  jobs: Entry[];
}
export type Entry = Record<string, unknown>;

/** A seed that cannot be loaded; the message starts with the entry's path (`things[3].thingName`). */
export class SeedError extends DomainError {
  /** An operational failure for the CLI: one line, no stack. */
  readonly code = 'ESEED';

  constructor(
    readonly path: string,
    what: string,
  ) {
    super('InvalidRequestException', path ? `${path}: ${what}` : what);
  }
}

/** The keys each section's entries may carry; `undefined` takes whatever the API input takes. */
const SECTIONS: Record<keyof Seed, readonly string[] | undefined> = {
  thingTypes: ['thingTypeName', 'thingTypeProperties', 'tags'],
  thingGroups: ['thingGroupName', 'parentGroupName', 'thingGroupProperties', 'tags'],
  things: ['thingName', 'thingTypeName', 'attributes', 'attributePayload', 'thingGroups'],
  packages: ['packageName', 'description', 'defaultVersionName', 'tags', 'versions'],
  shadows: ['thingName', 'shadowName', 'state'],
  // Any CreateJob input but documentSource: a seed's job document is inline (or a template's).
  jobs: undefined,
};
const VERSION_KEYS = ['versionName', 'status', 'description', 'attributes', 'tags'] as const;
export const VERSION_STATUSES = ['DRAFT', 'PUBLISHED', 'DEPRECATED'] as const;

/** Parses a seed file's text: JSON for `.json`, else YAML (of which JSON is a subset). */
export function parseSeedText(text: string, fileName = ''): unknown {
  try {
    return fileName.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SeedError('', `the seed is not valid ${fileName.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML or JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `--seed FILE`: read, parsed and shape-checked at start (a bad file stops the start). */
export function readSeedFile(file: string): Seed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SeedError('', `cannot read the seed file ${file}: ${(err as Error).message}`);
  }
  try {
    return checkSeedShape(parseSeedText(text, file));
  } catch (err) {
    if (err instanceof SeedError) throw new SeedError('', `seed file ${file}: ${err.message}`);
    throw err;
  }
}

const isObject = (v: unknown): v is Entry => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks the seed's shape and names the first entry that is wrong. */
export function checkSeedShape(input: unknown): Seed {
  // An empty YAML file parses to null: it is the empty seed.
  if (input === null || input === undefined) input = {};
  if (!isObject(input)) throw new SeedError('', 'a seed is one JSON object, e.g. {"things": [{"thingName": "t1"}]}');
  const seed: Seed = { thingTypes: [], thingGroups: [], things: [], packages: [], shadows: [], jobs: [] };
  for (const [section, value] of Object.entries(input)) {
    if (!(section in SECTIONS)) throw new SeedError(section, `unknown section; a seed has ${Object.keys(SECTIONS).join(', ')}`);
    const key = section as keyof Seed;
    if (!Array.isArray(value)) throw new SeedError(section, 'must be a list of entries');
    value.forEach((entry, i) => checkEntry(`${section}[${i}]`, entry, SECTIONS[key]));
    seed[key] = value as Entry[];
  }
  seed.things.forEach((t, i) => {
    if (t.attributes !== undefined && t.attributePayload !== undefined) throw new SeedError(`things[${i}].attributes`, 'give attributes or attributePayload, not both');
    if (t.thingGroups !== undefined) checkNames(`things[${i}].thingGroups`, t.thingGroups);
  });
  seed.packages.forEach((p, i) => {
    if (p.versions === undefined) return;
    if (!Array.isArray(p.versions)) throw new SeedError(`packages[${i}].versions`, 'must be a list of versions');
    p.versions.forEach((v, j) => {
      const path = `packages[${i}].versions[${j}]`;
      checkEntry(path, v, VERSION_KEYS);
      const status = (v as Entry).status;
      if (status !== undefined && !(VERSION_STATUSES as readonly unknown[]).includes(status)) {
        throw new SeedError(`${path}.status`, `must be one of ${VERSION_STATUSES.join(', ')}`);
      }
    });
  });
  seed.shadows.forEach((s, i) => {
    if (!isObject(s.state)) throw new SeedError(`shadows[${i}].state`, 'must be an object, e.g. {"reported": {"version": "1.0.0"}}');
  });
  seed.jobs.forEach((j, i) => {
    if (j.documentSource !== undefined) {
      throw new SeedError(`jobs[${i}].documentSource`, 'a seeded job carries its document inline (document) or from a template (jobTemplateArn); create jobs whose document is in S3 with CreateJob');
    }
  });
  return seed;
}

function checkEntry(path: string, entry: unknown, keys: readonly string[] | undefined): void {
  if (!isObject(entry)) throw new SeedError(path, 'must be an object');
  if (!keys) return;
  for (const k of Object.keys(entry)) {
    if (!keys.includes(k)) throw new SeedError(`${path}.${k}`, `unknown field; an entry here has ${keys.join(', ')}`);
  }
}

function checkNames(path: string, value: unknown): void {
  if (!Array.isArray(value)) throw new SeedError(path, 'must be a list of thing group names');
  value.forEach((v, i) => {
    if (typeof v !== 'string') throw new SeedError(`${path}[${i}]`, 'must be a thing group name');
  });
}
