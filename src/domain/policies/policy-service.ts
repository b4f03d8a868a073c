import { randomUUID } from 'node:crypto';
import type { PolicyRow } from '../../store/policies.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { checkTagList } from '../tags/tag-rules.js';
import { compilePolicyDocument } from './policy-document.js';
import { checkPageSize, checkPolicyName, checkVersionId, decodeMarker, markerPage, MAX_VERSIONS, policyErrors, policyNotFound, type PolicyChangeFeed } from './policy-rules.js';

/** The policy; ResourceNotFoundException when it does not exist. Locked for change on PostgreSQL when `forUpdate`. */
export async function requirePolicy(store: Store, name: string, forUpdate = false): Promise<PolicyRow> {
  const row = forUpdate ? await store.policies.getForUpdate(name) : await store.policies.get(name);
  if (!row) throw policyNotFound();
  return row;
}

function checkDocument(name: string, value: unknown): string {
  const e = policyErrors();
  const document = e.string(value, 'policyDocument', { required: true, max: 404600 });
  e.throwIfAny();
  compilePolicyDocument(name, document!);
  return document!;
}

const versionNotFound = () => new DomainError('ResourceNotFoundException', 'Policy version not found');

/**
 * IoT policies and their versions (issue 11 item 4): CreatePolicy, GetPolicy, DeletePolicy,
 * ListPolicies, CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, SetDefaultPolicyVersion,
 * DeletePolicyVersion, with AWS's conflict rules (device-security.md §5.2).
 */
export class PolicyService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly changes: PolicyChangeFeed,
  ) {}

  async createPolicy(input: { policyName?: unknown; policyDocument?: unknown; tags?: unknown }) {
    const e = policyErrors();
    const name = checkPolicyName(e, input.policyName);
    const tags = checkTagList(e, input.tags, 'tags');
    e.throwIfAny();
    const document = checkDocument(name!, input.policyDocument);
    return this.ctx.store.transaction(async (tx) => {
      const now = this.ctx.clock.now();
      const row: PolicyRow = { policy_name: name!, default_version_id: 1, generation_id: randomUUID(), created_at: now, updated_at: now };
      if (!(await tx.policies.insert(row, document))) {
        throw new DomainError('ResourceAlreadyExistsException', `Policy cannot be created - name already exists (name=${name})`, {
          resourceId: name,
          resourceArn: this.ctx.arns.policy(name!),
        });
      }
      if (tags && Object.keys(tags).length > 0) await tx.tags.put(this.ctx.arns.policy(name!), tags);
      return { policyName: name, policyArn: this.ctx.arns.policy(name!), policyDocument: document, policyVersionId: '1' };
    });
  }

  async getPolicy(input: { policyName?: unknown }) {
    const name = this.name(input.policyName);
    const row = await requirePolicy(this.ctx.store, name);
    const version = await this.ctx.store.policies.getVersion(name, row.default_version_id);
    if (!version) throw policyNotFound();
    return {
      policyName: name,
      policyArn: this.ctx.arns.policy(name),
      policyDocument: version.document,
      defaultVersionId: String(row.default_version_id),
      creationDate: new Date(row.created_at),
      lastModifiedDate: new Date(row.updated_at),
      generationId: row.generation_id,
    };
  }

  async deletePolicy(input: { policyName?: unknown }): Promise<Record<string, never>> {
    const name = this.name(input.policyName);
    return this.ctx.store.transaction(async (tx) => {
      const row = await requirePolicy(tx, name, true);
      if (await tx.policies.isAttachedAnywhere(name)) {
        throw new DomainError('DeleteConflictException', `The policy cannot be deleted as the policy is attached to one or more principals (name=${name})`);
      }
      if ((await tx.policies.versions(name)).some((v) => v.version_id !== row.default_version_id)) {
        throw new DomainError('DeleteConflictException', `Cannot delete the policy because it has one or more policy versions attached to it (name=${name})`);
      }
      await tx.policies.delete(name);
      await tx.tags.removeAll(this.ctx.arns.policy(name));
      return {};
    });
  }

  async listPolicies(input: { marker?: string; pageSize?: unknown; ascendingOrder?: unknown }) {
    const e = policyErrors();
    const limit = checkPageSize(e, input.pageSize);
    const ascending = e.boolean(input.ascendingOrder, 'ascendingOrder') !== false;
    e.throwIfAny();
    const after = decodeMarker('policies', input.marker);
    const rows = await this.ctx.store.policies.list(after, limit + 1, ascending);
    const { items, nextMarker } = markerPage(rows, limit, 'policies', (r) => r.policy_name);
    return { policies: items.map((r) => ({ policyName: r.policy_name, policyArn: this.ctx.arns.policy(r.policy_name) })), nextMarker };
  }

  async createPolicyVersion(input: { policyName?: unknown; policyDocument?: unknown; setAsDefault?: unknown }) {
    const name = this.name(input.policyName);
    const e = policyErrors();
    const isDefault = e.boolean(input.setAsDefault, 'setAsDefault') === true;
    e.throwIfAny();
    const document = checkDocument(name, input.policyDocument);
    return this.ctx.store.transaction(async (tx) => {
      const row = await requirePolicy(tx, name, true);
      const versions = await tx.policies.versions(name);
      if (versions.length >= MAX_VERSIONS) {
        throw new DomainError('VersionsLimitExceededException', `The policy ${name} already has the maximum number of versions (${MAX_VERSIONS})`);
      }
      const versionId = Math.max(0, ...versions.map((v) => v.version_id)) + 1;
      const now = this.ctx.clock.now();
      await tx.policies.insertVersion({ policy_name: name, version_id: versionId, document, created_at: now });
      await tx.policies.update(name, { updated_at: now, ...(isDefault ? { default_version_id: versionId, generation_id: randomUUID() } : {}) });
      if (isDefault && row.default_version_id !== versionId) await this.changes.record(tx);
      return { policyArn: this.ctx.arns.policy(name), policyDocument: document, policyVersionId: String(versionId), isDefaultVersion: isDefault };
    });
  }

  async getPolicyVersion(input: { policyName?: unknown; policyVersionId?: unknown }) {
    const { name, versionId } = this.nameAndVersion(input);
    const row = await requirePolicy(this.ctx.store, name);
    const version = await this.ctx.store.policies.getVersion(name, versionId);
    if (!version) throw versionNotFound();
    return {
      policyArn: this.ctx.arns.policy(name),
      policyName: name,
      policyDocument: version.document,
      policyVersionId: String(versionId),
      isDefaultVersion: versionId === row.default_version_id,
      creationDate: new Date(version.created_at),
      lastModifiedDate: new Date(row.default_version_id === versionId ? row.updated_at : version.created_at),
      generationId: row.generation_id,
    };
  }

  async listPolicyVersions(input: { policyName?: unknown }) {
    const name = this.name(input.policyName);
    const row = await requirePolicy(this.ctx.store, name);
    const versions = await this.ctx.store.policies.versions(name);
    return {
      policyVersions: versions.map((v) => ({ versionId: String(v.version_id), isDefaultVersion: v.version_id === row.default_version_id, createDate: new Date(v.created_at) })),
    };
  }

  async setDefaultPolicyVersion(input: { policyName?: unknown; policyVersionId?: unknown }): Promise<Record<string, never>> {
    const { name, versionId } = this.nameAndVersion(input);
    return this.ctx.store.transaction(async (tx) => {
      const row = await requirePolicy(tx, name, true);
      if (!(await tx.policies.getVersion(name, versionId))) throw versionNotFound();
      if (row.default_version_id === versionId) return {};
      await tx.policies.update(name, { default_version_id: versionId, generation_id: randomUUID(), updated_at: this.ctx.clock.now() });
      await this.changes.record(tx);
      return {};
    });
  }

  async deletePolicyVersion(input: { policyName?: unknown; policyVersionId?: unknown }): Promise<Record<string, never>> {
    const { name, versionId } = this.nameAndVersion(input);
    return this.ctx.store.transaction(async (tx) => {
      const row = await requirePolicy(tx, name, true);
      if (!(await tx.policies.getVersion(name, versionId))) throw versionNotFound();
      if (row.default_version_id === versionId) {
        throw new DomainError('DeleteConflictException', 'Cannot delete the default version of a policy');
      }
      await tx.policies.deleteVersion(name, versionId);
      return {};
    });
  }

  private name(value: unknown): string {
    const e = policyErrors();
    const name = checkPolicyName(e, value);
    e.throwIfAny();
    return name!;
  }

  private nameAndVersion(input: { policyName?: unknown; policyVersionId?: unknown }): { name: string; versionId: number } {
    const e = policyErrors();
    const name = checkPolicyName(e, input.policyName);
    const versionId = checkVersionId(e, input.policyVersionId);
    e.throwIfAny();
    return { name: name!, versionId: versionId! };
  }
}
