import { randomUUID } from 'node:crypto';
import type { ThingTypeRow } from '../../store/things.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { checkTagList } from '../tags/tag-rules.js';
import { FieldErrors } from '../validation.js';
import { ATTRIBUTE_NAME, checkDescription, checkName, thingTypeNotFound, type RegistryLimits } from './thing-rules.js';

const errors = () => new FieldErrors('InvalidRequestException');

interface TypeProperties {
  description?: string;
  searchableAttributes?: string[];
  mqtt5Configuration?: { propagatingAttributes: { userPropertyKey?: string; thingAttribute?: string; connectionAttribute?: string }[] };
}

/** `thingTypeProperties` (§3.8). */
function checkProperties(e: FieldErrors, value: unknown, maxSearchable: number): TypeProperties {
  const props = e.object(value, 'thingTypeProperties');
  if (!props) return {};
  const out: TypeProperties = {};
  const description = checkDescription(e, props.thingTypeDescription, 'thingTypeProperties.thingTypeDescription');
  if (description !== undefined) out.description = description;
  const searchable = e.array(props.searchableAttributes, 'thingTypeProperties.searchableAttributes');
  if (searchable) {
    const names = searchable.map((s, i) => e.string(s, `thingTypeProperties.searchableAttributes.${i + 1}.member`, { required: true, ...ATTRIBUTE_NAME }));
    if (names.every((n) => n !== undefined)) out.searchableAttributes = names as string[];
    if (searchable.length > maxSearchable) e.addRaw('Only three searchable attributes are allowed for a thing type.');
  }
  const mqtt5 = e.object(props.mqtt5Configuration, 'thingTypeProperties.mqtt5Configuration');
  if (mqtt5) {
    const list = e.array(mqtt5.propagatingAttributes, 'thingTypeProperties.mqtt5Configuration.propagatingAttributes') ?? [];
    const attrs = list.map((item, i) => {
      const path = `thingTypeProperties.mqtt5Configuration.propagatingAttributes.${i + 1}.member`;
      const o = e.object(item, path, true) ?? {};
      const entry: { userPropertyKey?: string; thingAttribute?: string; connectionAttribute?: string } = {};
      const userPropertyKey = e.string(o.userPropertyKey, `${path}.userPropertyKey`, { max: 128 });
      const thingAttribute = e.string(o.thingAttribute, `${path}.thingAttribute`, ATTRIBUTE_NAME);
      const connectionAttribute = e.string(o.connectionAttribute, `${path}.connectionAttribute`, { max: 128 });
      if (userPropertyKey !== undefined) entry.userPropertyKey = userPropertyKey;
      if (thingAttribute !== undefined) entry.thingAttribute = thingAttribute;
      if (connectionAttribute !== undefined) entry.connectionAttribute = connectionAttribute;
      return entry;
    });
    out.mqtt5Configuration = { propagatingAttributes: attrs };
  }
  return out;
}

/** CreateThingType, DescribeThingType, ListThingTypes, DeprecateThingType, DeleteThingType (§3.8). */
export class ThingTypeService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly limits: RegistryLimits,
  ) {}

  async createThingType(input: { thingTypeName?: unknown; thingTypeProperties?: unknown; tags?: unknown }) {
    const e = errors();
    const name = checkName(e, input.thingTypeName, 'thingTypeName');
    const props = checkProperties(e, input.thingTypeProperties, this.limits.maxSearchableAttributes);
    const tags = checkTagList(e, input.tags, 'tags');
    e.throwIfAny();
    const typeName = name!;
    const stored = {
      description: props.description ?? null,
      searchable_attributes: props.searchableAttributes ? JSON.stringify(props.searchableAttributes) : null,
      mqtt5_configuration: props.mqtt5Configuration ? JSON.stringify(props.mqtt5Configuration) : null,
    };
    return this.ctx.store.transaction(async (tx) => {
      const answer = (row: ThingTypeRow) => ({ thingTypeName: row.thing_type_name, thingTypeArn: this.ctx.arns.thingType(row.thing_type_name), thingTypeId: row.thing_type_id });
      // Idempotent for identical properties (§3.8).
      const sameOrRefuse = (row: ThingTypeRow) => {
        if (row.description !== stored.description || row.searchable_attributes !== stored.searchable_attributes || row.mqtt5_configuration !== stored.mqtt5_configuration) {
          throw new DomainError('ResourceAlreadyExistsException', `Thing Type ${typeName} already exists in account with different properties`, {
            resourceId: row.thing_type_id,
            resourceArn: this.ctx.arns.thingType(typeName),
          });
        }
        return answer(row);
      };
      const existing = await tx.thingTypes.get(typeName);
      if (existing) return sameOrRefuse(existing);
      const row: ThingTypeRow = { thing_type_name: typeName, thing_type_id: randomUUID(), ...stored, deprecated: 0, deprecation_date: null, created_at: this.ctx.clock.now() };
      if (!(await tx.thingTypes.insert(row))) return sameOrRefuse((await tx.thingTypes.get(typeName))!);
      if (tags && Object.keys(tags).length > 0) await tx.tags.put(this.ctx.arns.thingType(typeName), tags);
      return answer(row);
    });
  }

  async describeThingType(input: { thingTypeName?: unknown }) {
    const e = errors();
    const name = checkName(e, input.thingTypeName, 'thingTypeName');
    e.throwIfAny();
    const row = await this.ctx.store.thingTypes.get(name!);
    if (!row) throw thingTypeNotFound(name!);
    return { thingTypeName: row.thing_type_name, thingTypeId: row.thing_type_id, ...this.definition(row) };
  }

  async listThingTypes(input: { maxResults?: unknown; nextToken?: string; thingTypeName?: unknown }) {
    const e = errors();
    const limit = pageSize(e, input.maxResults, 250, 50);
    const prefix = checkName(e, input.thingTypeName, 'thingTypeName', false);
    e.throwIfAny();
    const after = decodeToken('thing-types', input.nextToken, 'InvalidRequestException', isString);
    const rows = await this.ctx.store.thingTypes.list(prefix, after, limit + 1);
    const { items, nextToken } = page(rows, limit, 'thing-types', (r) => r.thing_type_name);
    return {
      thingTypes: items.map((r) => ({ thingTypeName: r.thing_type_name, ...this.definition(r) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async deprecateThingType(input: { thingTypeName?: unknown; undoDeprecate?: unknown }): Promise<Record<string, never>> {
    const e = errors();
    const name = checkName(e, input.thingTypeName, 'thingTypeName');
    const undo = e.boolean(input.undoDeprecate, 'undoDeprecate') ?? false;
    e.throwIfAny();
    return this.ctx.store.transaction(async (tx) => {
      const row = await tx.thingTypes.getForUpdate(name!);
      if (!row) throw thingTypeNotFound(name!);
      if (undo) await tx.thingTypes.update(name!, { deprecated: 0, deprecation_date: null });
      // Deprecating again keeps the first date, so the 5-minute delete wait is not restarted.
      else if (!row.deprecated) await tx.thingTypes.update(name!, { deprecated: 1, deprecation_date: this.ctx.clock.now() });
      return {};
    });
  }

  async deleteThingType(input: { thingTypeName?: unknown }): Promise<Record<string, never>> {
    const e = errors();
    const name = checkName(e, input.thingTypeName, 'thingTypeName');
    e.throwIfAny();
    const typeName = name!;
    return this.ctx.store.transaction(async (tx) => {
      const row = await tx.thingTypes.getForUpdate(typeName);
      if (!row) throw thingTypeNotFound(typeName);
      const waitMinutes = this.limits.thingTypeDeleteDelayMs / 60_000;
      if (!row.deprecated || row.deprecation_date === null || this.ctx.clock.now() - row.deprecation_date < this.limits.thingTypeDeleteDelayMs) {
        throw new DomainError('InvalidRequestException', `Thing type ${typeName} must be deprecated for at least ${waitMinutes} minutes before it can be deleted.`);
      }
      if (await tx.things.anyOfType(typeName)) {
        throw new DomainError('InvalidRequestException', `Thing type ${typeName} cannot be deleted while things are still associated with it.`);
      }
      await tx.thingTypes.delete(typeName);
      await tx.tags.removeAll(this.ctx.arns.thingType(typeName));
      return {};
    });
  }

  private definition(row: ThingTypeRow) {
    return {
      thingTypeArn: this.ctx.arns.thingType(row.thing_type_name),
      thingTypeProperties: {
        ...(row.description !== null ? { thingTypeDescription: row.description } : {}),
        ...(row.searchable_attributes !== null ? { searchableAttributes: JSON.parse(row.searchable_attributes) as string[] } : {}),
        ...(row.mqtt5_configuration !== null ? { mqtt5Configuration: JSON.parse(row.mqtt5_configuration) as unknown } : {}),
      },
      thingTypeMetadata: {
        deprecated: row.deprecated === 1,
        ...(row.deprecation_date !== null ? { deprecationDate: new Date(row.deprecation_date) } : {}),
        creationDate: new Date(row.created_at),
      },
    };
  }
}
