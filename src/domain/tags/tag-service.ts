import type { Store } from '../../store/store.js';
import type { Arns } from '../arns.js';
import { DomainError } from '../errors.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import { checkTagList, MAX_TAGS_PER_RESOURCE } from './tag-rules.js';

/**
 * Says whether the resource an ARN names exists. Each feature registers the resource types it owns
 * ('package', 'thing', 'job', ...), so TagResource works on every taggable ARN without knowing them.
 */
export type ResourceExists = (store: Store, path: string[]) => Promise<boolean>;

/** TagResource, UntagResource and ListTagsForResource (classic IoT errors). */
export class TagService {
  private readonly taggable = new Map<string, ResourceExists>();

  constructor(
    private readonly store: Store,
    private readonly arns: Arns,
  ) {}

  register(resourceType: string, exists: ResourceExists): void {
    this.taggable.set(resourceType, exists);
  }

  private async resolve(store: Store, errors: FieldErrors, arn: unknown): Promise<string> {
    const resourceArn = errors.string(arn, 'resourceArn', { required: true, min: 1, max: 2048 });
    errors.throwIfAny();
    const parsed = this.arns.parse(resourceArn!);
    const exists = parsed && this.taggable.get(parsed.resourceType);
    if (!parsed || !exists) throw new DomainError('InvalidRequestException', `Invalid resource ARN: ${resourceArn}`);
    if (!(await exists(store, parsed.path))) throw new DomainError('ResourceNotFoundException', `Resource ${resourceArn} does not exist.`);
    return resourceArn!;
  }

  async tagResource(input: { resourceArn?: unknown; tags?: unknown }): Promise<void> {
    const errors = new FieldErrors('InvalidRequestException');
    const tags = checkTagList(errors, input.tags, 'tags', true, Infinity);
    await this.store.transaction(async (tx) => {
      const arn = await this.resolve(tx, errors, input.resourceArn);
      const existing = new Set(await tx.tags.keys(arn));
      for (const k of Object.keys(tags!)) existing.add(k);
      if (existing.size > MAX_TAGS_PER_RESOURCE) {
        throw new DomainError('LimitExceededException', `A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags.`);
      }
      await tx.tags.put(arn, tags!);
    });
  }

  async untagResource(input: { resourceArn?: unknown; tagKeys?: unknown }): Promise<void> {
    const errors = new FieldErrors('InvalidRequestException');
    const keys = errors.array(input.tagKeys, 'tagKeys', { required: true });
    keys?.forEach((k, i) => errors.string(k, `tagKeys.${i + 1}.member`, { required: true, min: 1, max: 128 }));
    await this.store.transaction(async (tx) => {
      const arn = await this.resolve(tx, errors, input.resourceArn);
      await tx.tags.remove(arn, keys as string[]);
    });
  }

  async listTagsForResource(input: { resourceArn?: unknown; nextToken?: string }): Promise<{ tags: { Key: string; Value: string }[]; nextToken?: string }> {
    const errors = new FieldErrors('InvalidRequestException');
    const arn = await this.resolve(this.store, errors, input.resourceArn);
    const after = decodeToken('tags', input.nextToken, 'InvalidRequestException', isString);
    const limit = pageSize(errors, undefined, 50);
    const rows = await this.store.tags.list(arn, after, limit + 1);
    const { items, nextToken } = page(rows, limit, 'tags', (r) => r.tag_key);
    return { tags: items.map((r) => ({ Key: r.tag_key, Value: r.tag_value })), ...(nextToken ? { nextToken } : {}) };
  }
}
