import type { PolicyWithDocument } from '../../store/policies.js';
import type { DomainContext } from '../context.js';
import { thingFacts } from './device-authorization.js';
import type { PolicyAttachmentService } from './policy-attachments.js';
import { compilePolicyDocument } from './policy-document.js';
import { bindPolicies, type Decision } from './policy-engine.js';
import { checkPolicyName, policyErrors, policyNotFound } from './policy-rules.js';
import type { ConnectionFacts } from './policy-variables.js';

const ACTIONS = { PUBLISH: 'iot:Publish', SUBSCRIBE: 'iot:Subscribe', RECEIVE: 'iot:Receive', CONNECT: 'iot:Connect' } as const;
type ActionType = keyof typeof ACTIONS;

interface AuthInfo {
  actionType: ActionType;
  resources: string[];
}

/**
 * TestAuthorization (device-security.md §5.1, decision 0037): the engine's answer for actions on
 * resources under the principal's effective policies (its certificate's and the groups of the
 * thing `clientId` names), plus `policyNamesToAdd`, minus `policyNamesToSkip`. The door's default
 * device policy is not among them: it stands in only where no policy is attached.
 */
export class TestAuthorizationService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly attachments: PolicyAttachmentService,
  ) {}

  async testAuthorization(input: { principal?: unknown; cognitoIdentityPoolId?: unknown; authInfos?: unknown; clientId?: unknown; policyNamesToAdd?: unknown; policyNamesToSkip?: unknown }) {
    const e = policyErrors();
    const principal = e.string(input.principal, 'principal', { max: 2048 });
    const clientId = e.string(input.clientId, 'clientId', { max: 128 });
    e.string(input.cognitoIdentityPoolId, 'cognitoIdentityPoolId', { max: 128 });
    const names = (value: unknown, path: string) => (e.array(value, path, {}) ?? []).map((n, i) => checkPolicyName(e, n) ?? `#${i}`);
    const toAdd = names(input.policyNamesToAdd, 'policyNamesToAdd');
    const toSkip = new Set(names(input.policyNamesToSkip, 'policyNamesToSkip'));
    const infos: AuthInfo[] = (e.array(input.authInfos, 'authInfos', { required: true, min: 1, max: 10 }) ?? []).map((raw, i) => {
      const info = e.object(raw, `authInfos.${i + 1}.member`, true) ?? {};
      const actionType = e.string(info.actionType, `authInfos.${i + 1}.member.actionType`, { required: true, enum: Object.keys(ACTIONS) }) as ActionType;
      const resources = (e.array(info.resources, `authInfos.${i + 1}.member.resources`, { required: true, min: 1 }) ?? []).map((r, j) => e.string(r, `authInfos.${i + 1}.member.resources.${j + 1}.member`, { required: true, max: 2048 }) ?? '');
      return { actionType, resources };
    });
    e.throwIfAny();

    const certificateArn = principal !== undefined ? await this.attachments.requireCertificate(principal) : undefined;
    const thing = clientId !== undefined ? await this.ctx.store.things.get(clientId) : undefined;
    const effective = await this.attachments.effectivePolicies({ certificateArn, thingName: thing?.thing_name });
    const added = await this.ctx.store.policies.withDocuments(toAdd);
    if (added.length !== new Set(toAdd).size) throw policyNotFound();
    const byName = new Map<string, PolicyWithDocument>();
    for (const p of [...effective, ...added]) if (!toSkip.has(p.policy_name)) byName.set(p.policy_name, p);
    const facts: ConnectionFacts = {
      clientId: clientId ?? '',
      ...(thing ? { thing: { ...thingFacts(thing), attached: true } } : {}),
      ...(certificateArn ? { certificate: { id: certificateArn.slice(certificateArn.lastIndexOf('/') + 1) } } : {}),
    };
    const each = [...byName.values()].map((p) => ({ row: p, bound: bindPolicies([compilePolicyDocument(p.policy_name, p.document)], facts) }));
    const ref = (p: PolicyWithDocument) => ({ policyName: p.policy_name, policyArn: this.ctx.arns.policy(p.policy_name) });
    return {
      authResults: infos.map((info) => {
        const action = ACTIONS[info.actionType];
        const decisions = each.map((p) => ({ ...p, per: info.resources.map((r) => p.bound.decide(action, r)) }));
        const denying = decisions.filter((d) => d.per.includes('EXPLICIT_DENY'));
        const allowing = decisions.filter((d) => d.per.includes('ALLOWED'));
        const everyResourceAllowed = info.resources.every((_, i) => decisions.some((d) => d.per[i] === 'ALLOWED'));
        const authDecision: Decision = denying.length > 0 ? 'EXPLICIT_DENY' : everyResourceAllowed && allowing.length > 0 ? 'ALLOWED' : 'IMPLICIT_DENY';
        return {
          authInfo: info,
          allowed: { policies: authDecision === 'ALLOWED' ? allowing.map((d) => ref(d.row)) : [] },
          denied: {
            implicitDeny: { policies: authDecision === 'IMPLICIT_DENY' ? decisions.filter((d) => !d.per.every((x) => x === 'ALLOWED')).map((d) => ref(d.row)) : [] },
            explicitDeny: { policies: denying.map((d) => ref(d.row)) },
          },
          authDecision,
          missingContextValues: [],
        };
      }),
    };
  }
}
