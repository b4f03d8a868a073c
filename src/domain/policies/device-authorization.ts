import type { PolicyWithDocument } from '../../store/policies.js';
import type { ThingRow } from '../../store/things.js';
import type { DomainContext } from '../context.js';
import { parseJson } from '../json.js';
import { defaultDevicePolicy, type DefaultDevicePolicy } from './default-policies.js';
import type { PolicyAttachmentService } from './policy-attachments.js';
import { compilePolicyDocument, type CompiledPolicy } from './policy-document.js';
import { dataPlaneActions, decideAny } from './data-plane-actions.js';
import { bindPolicies, type BoundPolicies, type Decision } from './policy-engine.js';
import type { PolicyChangeFeed } from './policy-rules.js';
import type { CertificateFacts, ConnectionFacts, ConnectionThing } from './policy-variables.js';

/**
 * Who a device is to the policy engine: the certificate it presented (its ARN,
 * `arn:aws:iot:{region}:{account}:cert/{id}`, and its names for `iot:Certificate.*`), the thing it
 * acts for and, on MQTT, its client id.
 */
export interface DeviceFacts extends ConnectionFacts {
  certificateArn?: string;
  certificate?: CertificateFacts;
}

/** An MQTT connection's principal, decided once at CONNECT by the door's identity seam. */
export interface DevicePrincipal extends DeviceFacts {
  clientId: string;
}

/** An HTTPS device-plane request's answer: allowed, or why not (for the log) and what was asked. */
export type DataPlaneDecision = { allowed: true } | { allowed: false; action: string; resource: string; reason: string };

/** What one connection may do: its policies bound to it, and where they came from. */
export interface DeviceGrant {
  policies: BoundPolicies;
  /** Names of the attached policies it acts under; empty when it got the default policy. */
  attached: string[];
}

/** A registry row as `iot:Connection.Thing.*` reads it. */
export function thingFacts(row: ThingRow): Omit<ConnectionThing, 'attached'> {
  return { name: row.thing_name, ...(row.thing_type_name !== null ? { typeName: row.thing_type_name } : {}), attributes: parseJson<Record<string, string>>(row.attributes) ?? {} };
}

export type MqttAction = 'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive';

/**
 * Device authorization (issue 11 item 4): a principal's effective policies — its certificate's and
 * its thing's groups', or the default device policy when none is attached — bound to the
 * connection once, and the resources of its MQTT requests. The door keeps one grant per
 * connection and asks for a new one when `changes` says policies or attachments changed.
 */
export class DeviceAuthorization {
  private readonly fallback: CompiledPolicy[];
  /** Compiled documents by policy name and generation (a new default version is a new generation). */
  private readonly compiled = new Map<string, CompiledPolicy>();
  /**
   * Whether any policy is attached anywhere (one query), known until the feed tells of a change
   * to every connection — an attachment or detach here, or through another instance sharing the
   * database, heard within about a second (decision 0049): without any, every connection gets the
   * default.
   */
  private anyAttached: Promise<boolean> | undefined;

  constructor(
    private readonly ctx: DomainContext,
    private readonly attachments: PolicyAttachmentService,
    readonly changes: PolicyChangeFeed,
    readonly defaultPolicy: DefaultDevicePolicy,
  ) {
    this.fallback = defaultDevicePolicy(defaultPolicy, ctx.arns.region, ctx.arns.accountId);
    changes.subscribe((thingName) => {
      if (thingName === undefined) this.anyAttached = undefined;
    });
  }

  /** The registry's facts about a thing (`iot:Connection.Thing.*`), undefined when there is no such thing. */
  async thing(name: string): Promise<Omit<ConnectionThing, 'attached'> | undefined> {
    const row = await this.ctx.store.things.get(name);
    return row ? thingFacts(row) : undefined;
  }

  /** The connection's grant: its attached policies (directly, or through its thing's groups), else the default policy. */
  async grant(principal: DeviceFacts): Promise<DeviceGrant> {
    let rows: PolicyWithDocument[] = [];
    if (principal.certificateArn !== undefined || principal.thing?.attached) {
      if (this.anyAttached === undefined) {
        this.anyAttached = this.ctx.store.policies.anyAttachment().catch((err: unknown) => {
          this.anyAttached = undefined;
          throw err;
        });
      }
      if (await this.anyAttached) rows = await this.attachments.effectivePolicies({ certificateArn: principal.certificateArn, thingName: principal.thing?.attached ? principal.thing.name : undefined });
    }
    const policies = rows.length > 0 ? rows.map((r) => this.compile(r)) : this.fallback;
    return { policies: bindPolicies(policies, principal), attached: rows.map((r) => r.policy_name) };
  }

  /** The ARN an MQTT action is checked against: `client/{id}`, `topic/{topic}` or `topicfilter/{filter}`. */
  resource(action: MqttAction, name: string): string {
    const kind = action === 'iot:Connect' ? 'client' : action === 'iot:Subscribe' ? 'topicfilter' : 'topic';
    return this.arn(`${kind}/${name}`);
  }

  /**
   * An HTTPS device-plane request (decision 0048): the operation's action on the thing's ARN
   * (`thing/{thing}`, a named shadow's `thing/{thing}/{shadowName}`) under the principal's
   * policies, or the default device policy when none reaches it, bound for this one request.
   */
  async authorizeDataPlane(principal: DeviceFacts, operation: string, thingName: string, shadowName?: string): Promise<DataPlaneDecision> {
    const actions = dataPlaneActions(operation);
    const name = shadowName === undefined ? `thing/${thingName}` : `thing/${thingName}/${shadowName}`;
    const resource = this.arn(name);
    if (!actions) return { allowed: false, action: operation, resource, reason: `${operation} is no device-plane operation` };
    const grant = await this.grant(principal);
    const decision = decideAny(grant.policies, actions, resource);
    if (decision.decision === 'ALLOWED') return { allowed: true };
    return { allowed: false, action: actions[0], resource, reason: this.refusal(actions[0], name, principal, grant, decision.decision) };
  }

  /** This account's IoT ARN of a resource (`client/…`, `topic/…`, `thing/…`). */
  private arn(resource: string): string {
    return `arn:${this.ctx.arns.partition}:iot:${this.ctx.arns.region}:${this.ctx.arns.accountId}:${resource}`;
  }

  /** Why a device is refused, for the log (never secrets: the principal's ids and policy names). */
  refusal(action: string, resource: string, p: DeviceFacts, grant: DeviceGrant, decision: Decision): string {
    const by = grant.attached.length > 0 ? `its policies (${grant.attached.join(', ')})` : `the default device policy (${this.defaultPolicy})`;
    const who = p.thing ? `thing ${p.thing.name}${p.thing.attached ? '' : ', not attached to the certificate'}` : 'no registered thing';
    return `${action} on ${resource} is ${decision === 'EXPLICIT_DENY' ? 'explicitly denied' : 'not allowed'} by ${by} (${who}${p.certificateArn ? `, ${p.certificateArn}` : ''})`;
  }

  private compile(row: PolicyWithDocument): CompiledPolicy {
    const key = `${row.policy_name}\u0000${row.generation_id}`;
    let policy = this.compiled.get(key);
    if (!policy) {
      // Stored documents were checked when they were created.
      policy = compilePolicyDocument(row.policy_name, row.document);
      if (this.compiled.size > 10_000) this.compiled.clear();
      this.compiled.set(key, policy);
    }
    return policy;
  }
}
