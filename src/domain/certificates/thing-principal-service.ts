import { splitIotArn } from '../arns.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { checkName } from '../things/thing-rules.js';
import { requireThing } from '../things/thing-service.js';
import type { CertificateEvents } from './certificate-ports.js';
import { certificateNotFound, errors } from './certificate-rules.js';

const TYPES = ['EXCLUSIVE_THING', 'NON_EXCLUSIVE_THING'];

/**
 * Thing principals (issue 11 item 3, device-security.md §4): certificates attached to things,
 * exclusively or not, with the principal in the `x-amzn-principal` header.
 */
export class ThingPrincipalService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly events: CertificateEvents,
  ) {}

  async attachThingPrincipal(input: { thingName?: unknown; principal?: unknown; thingPrincipalType?: unknown }) {
    const e = errors();
    const thingName = checkName(e, input.thingName, 'thingName');
    const principal = this.checkPrincipal(e, input.principal);
    const type = e.string(input.thingPrincipalType, 'thingPrincipalType', { enum: TYPES }) ?? 'NON_EXCLUSIVE_THING';
    e.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      await requireThing(tx, thingName!, true);
      const { certificateId, arn } = this.principalOf(principal!);
      if (!(await tx.certificates.getForUpdate(certificateId))) throw certificateNotFound(certificateId);
      const others = (await tx.thingPrincipals.ofPrincipal(arn, undefined, 2)).filter((r) => r.thing_name !== thingName);
      if (others.some((r) => r.principal_type === 'EXCLUSIVE_THING')) {
        throw new DomainError('InvalidRequestException', `Principal ${principal} is exclusively attached to thing ${others[0].thing_name}.`);
      }
      if (type === 'EXCLUSIVE_THING' && others.length > 0) {
        throw new DomainError('InvalidRequestException', `Principal ${principal} is attached to other things: it cannot be attached exclusively to ${thingName}.`);
      }
      await tx.thingPrincipals.put({ thing_name: thingName!, principal: arn, principal_type: type, created_at: this.ctx.clock.now() });
    });
    return {};
  }

  async detachThingPrincipal(input: { thingName?: unknown; principal?: unknown }) {
    const e = errors();
    const thingName = checkName(e, input.thingName, 'thingName');
    const principal = this.checkPrincipal(e, input.principal);
    e.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      await requireThing(tx, thingName!);
      const { certificateId, arn } = this.principalOf(principal!);
      if (!(await tx.certificates.get(certificateId))) throw certificateNotFound(certificateId);
      if (await tx.thingPrincipals.delete(thingName!, arn)) tx.afterCommit(() => this.events.principalDetached(certificateId, thingName!));
    });
    return {};
  }

  async listThingPrincipals(input: { thingName?: unknown; maxResults?: unknown; nextToken?: unknown; thingPrincipalType?: unknown }, v2 = false) {
    const e = errors();
    const thingName = checkName(e, input.thingName, 'thingName');
    const limit = pageSize(e, input.maxResults, 250, 25);
    const type = v2 ? e.string(input.thingPrincipalType, 'thingPrincipalType', { enum: TYPES }) : undefined;
    e.throwIfAny();
    const list = `thing-principals/${thingName}/${type ?? ''}`;
    const after = decodeToken(list, stringOrUndefined(input.nextToken), 'InvalidRequestException', isString);
    await requireThing(this.ctx.store, thingName!);
    const rows = await this.ctx.store.thingPrincipals.ofThing(thingName!, after, limit + 1, type);
    const { items, nextToken } = page(rows, limit, list, (r) => r.principal);
    const more = nextToken ? { nextToken } : {};
    if (v2) return { thingPrincipalObjects: items.map((r) => ({ principal: r.principal, thingPrincipalType: r.principal_type })), ...more };
    return { principals: items.map((r) => r.principal), ...more };
  }

  async listPrincipalThings(input: { principal?: unknown; maxResults?: unknown; nextToken?: unknown; thingPrincipalType?: unknown }, v2 = false) {
    const e = errors();
    const principal = this.checkPrincipal(e, input.principal);
    const limit = pageSize(e, input.maxResults, 250, 25);
    const type = v2 ? e.string(input.thingPrincipalType, 'thingPrincipalType', { enum: TYPES }) : undefined;
    e.throwIfAny();
    const list = `principal-things/${principal}/${type ?? ''}`;
    const after = decodeToken(list, stringOrUndefined(input.nextToken), 'InvalidRequestException', isString);
    const { certificateId, arn } = this.principalOf(principal!);
    if (!(await this.ctx.store.certificates.get(certificateId))) throw certificateNotFound(certificateId);
    const rows = await this.ctx.store.thingPrincipals.ofPrincipal(arn, after, limit + 1, type);
    const { items, nextToken } = page(rows, limit, list, (r) => r.thing_name);
    const more = nextToken ? { nextToken } : {};
    if (v2) return { principalThingObjects: items.map((r) => ({ thingName: r.thing_name, thingPrincipalType: r.principal_type })), ...more };
    return { things: items.map((r) => r.thing_name), ...more };
  }

  private checkPrincipal(e: ReturnType<typeof errors>, value: unknown): string | undefined {
    return e.string(value, 'principal', { required: true, max: 2048 });
  }

  /** A certificate ARN of this account and region, else InvalidRequestException (§4.2). */
  private principalOf(principal: string): { certificateId: string; arn: string } {
    const parts = splitIotArn(principal);
    const ok = parts && parts.resourceType === 'cert' && parts.account === this.ctx.arns.accountId && parts.region === this.ctx.arns.region && /^[a-f0-9]{64}$/i.test(parts.resource);
    if (!ok) throw new DomainError('InvalidRequestException', `The principal ${principal} is not a certificate ARN of this account.`);
    const certificateId = parts.resource.toLowerCase();
    return { certificateId, arn: this.ctx.arns.certificate(certificateId) };
  }
}

const stringOrUndefined = (v: unknown) => (typeof v === 'string' ? v : undefined);
