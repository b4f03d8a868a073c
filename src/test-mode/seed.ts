import type { DomainContext } from '../domain/context.js';
import type { DomainServices } from '../domain/domain-services.js';
import { DomainError } from '../domain/errors.js';
import { checkSeedShape, SeedError, type Entry, type Seed } from './seed-format.js';

/**
 * Loads a seed (`--seed FILE` at start, `POST /_fleetjobs/seed` at run time; decision 0016): every
 * entry goes through the domain service of the API call it stands for, so it is validated exactly
 * as that call is, and the whole seed is one transaction, so an invalid one changes nothing. The
 * services are built anew on that transaction's Store (domain-services.ts).
 */
export type SeedCounts = Record<keyof Seed, number>;

export interface SeedResult {
  status: 'ok';
  created: SeedCounts;
}

export interface SeedDeps {
  ctx: DomainContext;
  /** The domain's services on a context (the seed's transaction). */
  servicesOn: (ctx: DomainContext) => Pick<DomainServices, 'registry' | 'catalog' | 'shadows' | 'jobServices'>;
  /** After the commit: lets the engine release what the seeded jobs made due. */
  settle: () => Promise<void>;
}

export class SeedLoader {
  constructor(private readonly deps: SeedDeps) {}

  async load(input: unknown): Promise<SeedResult> {
    const seed = checkSeedShape(input);
    const { ctx } = this.deps;
    const created = await ctx.store.transaction(async (tx) => apply(seed, this.deps.servicesOn({ ...ctx, store: tx })));
    await this.deps.settle();
    return { status: 'ok', created };
  }
}

async function apply(seed: Seed, d: ReturnType<SeedDeps['servicesOn']>): Promise<SeedCounts> {
  // Types and groups before the things in them; things before their shadows and jobs.
  for (const [i, e] of seed.thingTypes.entries()) await at(`thingTypes[${i}]`, () => d.registry.thingTypes.createThingType(e));
  for (const [i, e] of seed.thingGroups.entries()) await at(`thingGroups[${i}]`, () => d.registry.groups.createThingGroup(e), { refersTo: [[/parent/i, 'parentGroupName']] });
  for (const [i, e] of seed.things.entries()) {
    const { attributes, thingGroups, ...input } = e;
    const path = `things[${i}]`;
    await at(path, () => d.registry.things.createThing(attributes === undefined ? input : { ...input, attributePayload: { attributes } }), { renamed: { attributePayload: 'attributes' }, refersTo: [[/thing type/i, 'thingTypeName']] });
    for (const [j, group] of ((thingGroups as string[] | undefined) ?? []).entries()) {
      await at(`${path}.thingGroups[${j}]`, () => d.registry.membership.addThingToThingGroup({ thingGroupName: group, thingName: e.thingName }), { pathIsField: true });
    }
  }
  for (const [i, e] of seed.packages.entries()) await seedPackage(`packages[${i}]`, e, d);
  for (const [i, e] of seed.shadows.entries()) {
    await at(`shadows[${i}]`, () => d.shadows.updateThingShadow({ thingName: e.thingName, shadowName: e.shadowName, payload: JSON.stringify({ state: e.state }) }));
  }
  for (const [i, e] of seed.jobs.entries()) await at(`jobs[${i}]`, () => d.jobServices.creation.createJob(e), { refersTo: [[/target|thing|group/i, 'targets'], [/template/i, 'jobTemplateArn']] });
  return {
    thingTypes: seed.thingTypes.length,
    thingGroups: seed.thingGroups.length,
    things: seed.things.length,
    packages: seed.packages.length,
    shadows: seed.shadows.length,
    jobs: seed.jobs.length,
  };
}

async function seedPackage(path: string, e: Entry, d: ReturnType<SeedDeps['servicesOn']>): Promise<void> {
  const { versions, defaultVersionName, ...input } = e;
  await at(path, () => d.catalog.packages.createPackage(input));
  for (const [j, v] of ((versions as Entry[] | undefined) ?? []).entries()) {
    const { status, ...version } = v;
    const vpath = `${path}.versions[${j}]`;
    await at(vpath, () => d.catalog.versions.createPackageVersion({ ...version, packageName: e.packageName }));
    // A version is created DRAFT; its status is reached as the lifecycle allows (packages.md §7).
    const actions = status === 'PUBLISHED' ? ['PUBLISH'] : status === 'DEPRECATED' ? ['PUBLISH', 'DEPRECATE'] : [];
    for (const action of actions) {
      await at(`${vpath}.status`, () => d.catalog.versions.updatePackageVersion({ packageName: e.packageName, versionName: v.versionName, action }), { pathIsField: true });
    }
  }
  if (defaultVersionName !== undefined) {
    await at(`${path}.defaultVersionName`, () => d.catalog.packages.updatePackage({ packageName: e.packageName, defaultVersionName }), { pathIsField: true });
  }
}

interface At {
  /** API field names the seed spells otherwise (a thing's attributePayload is its attributes). */
  renamed?: Record<string, string>;
  /** Fields a refusal that names none is about, by its message (a thing's missing type, a job's targets). */
  refersTo?: [RegExp, string][];
  /** The path already names the field. */
  pathIsField?: boolean;
}

/**
 * Runs one entry's call; a refusal becomes a SeedError naming the entry and, where the API's
 * message names a field ("at 'thingName'") or a missing reference, that field, in the seed's own
 * spelling.
 */
async function at(path: string, call: () => Promise<unknown>, o: At = {}): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    const named = /at '([A-Za-z]+)/.exec(err.message)?.[1];
    const field = o.pathIsField ? undefined : named ?? o.refersTo?.find(([pattern]) => pattern.test(err.message))?.[1];
    const where = field ? `${path}.${o.renamed?.[field] ?? field}` : path;
    throw new SeedError(where, `${err.errorName}: ${err.message}`);
  }
}
