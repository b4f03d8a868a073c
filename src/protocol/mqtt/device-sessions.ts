import type { Logger } from 'pino';
import type { DeviceAuthorization, DeviceGrant, DevicePrincipal, MqttAction } from '../../domain/policies/device-authorization.js';
import type { Decision } from '../../domain/policies/policy-engine.js';

interface Session {
  principal: DevicePrincipal;
  grant: DeviceGrant;
  /** Bumped at every re-bind, so an older answer arriving late is dropped. */
  generation: number;
  /**
   * The grant's answers so far, per action and topic: a device uses the same few topics for every
   * request, and deciding each PUBLISH and delivery afresh (the resource ARN built, every
   * statement's pattern tested) was a tenth of the broker's own CPU. Bound policies decide from
   * the action and resource alone (conditions are decided at bind time), so an answer holds until
   * the grant is replaced.
   */
  decided: Map<string, Map<string, boolean>>;
}

/** Topics remembered per action and connection: a device's own few, not whatever a client tries. */
const DECIDED_PER_ACTION = 32;

/**
 * The policies of each live device connection, bound once at CONNECT (DeviceAuthorization), so a
 * PUBLISH, SUBSCRIBE or delivery is decided in memory. When policies, attachments or a thing's
 * groups change, the connections concerned are bound again; one no longer allowed to connect is
 * closed (device-security.md §10 D7, D8).
 */
export class DeviceSessions<C extends object> {
  private readonly sessions = new Map<C, Session>();
  /** The connections of each thing, so a change of one thing's groups touches only them. */
  private readonly byThing = new Map<string, Set<C>>();
  private pendingAll = false;
  private readonly pendingThings = new Set<string>();
  private scheduled = false;
  /**
   * Changes to every connection heard so far, and things heard of while a CONNECT's grant is read:
   * a CONNECT that a change concerning it overtook binds again.
   */
  private heardAll = 0;
  private readonly heardThings = new Set<string>();
  private connecting = 0;

  constructor(
    private readonly authorization: DeviceAuthorization,
    private readonly log: Logger,
    private readonly closeClient: (client: C) => void,
  ) {
    authorization.changes.subscribe((thingName) => this.invalidate(thingName));
  }

  /** Binds the connection's policies and decides iot:Connect on `client/{clientId}`. */
  async connect(client: C, principal: DevicePrincipal): Promise<{ allowed: true } | { refused: string }> {
    const heardAll = this.heardAll;
    const thing = principal.thing?.name;
    this.connecting++;
    let grant: DeviceGrant;
    // A change heard while the grant was read (from another instance, it may predate the read) would miss this session.
    let overtaken = false;
    try {
      grant = await this.authorization.grant(principal);
    } finally {
      overtaken = this.heardAll !== heardAll || (thing !== undefined && this.heardThings.has(thing));
      if (--this.connecting === 0) this.heardThings.clear();
    }
    const decision = grant.policies.explain('iot:Connect', this.authorization.resource('iot:Connect', principal.clientId));
    if (decision.decision !== 'ALLOWED') return { refused: this.refusal('iot:Connect', principal, grant, decision.decision) };
    const session: Session = { principal, grant, generation: 0, decided: new Map() };
    this.sessions.set(client, session);
    if (thing !== undefined) {
      const set = this.byThing.get(thing) ?? new Set<C>();
      set.add(client);
      this.byThing.set(thing, set);
    }
    if (overtaken) void this.rebind(client, session);
    return { allowed: true };
  }

  /** Whether the connection may do `action` on the topic or filter; false for an unknown connection. */
  allows(client: C, action: Exclude<MqttAction, 'iot:Connect'>, name: string): boolean {
    const s = this.sessions.get(client);
    if (s === undefined) return false;
    let byName = s.decided.get(action);
    const known = byName?.get(name);
    if (known !== undefined) return known;
    const allowed = s.grant.policies.decide(action, this.authorization.resource(action, name)) === 'ALLOWED';
    if (!byName) s.decided.set(action, (byName = new Map()));
    if (byName.size < DECIDED_PER_ACTION) byName.set(name, allowed);
    return allowed;
  }

  thingOf(client: C): string | undefined {
    return this.sessions.get(client)?.principal.thing?.name;
  }

  /** The connection's thing when it is attached to the connection's principal (what a detach takes away). */
  attachedThingOf(client: C): string | undefined {
    const thing = this.sessions.get(client)?.principal.thing;
    return thing?.attached ? thing.name : undefined;
  }

  drop(client: C): void {
    const thing = this.thingOf(client);
    this.sessions.delete(client);
    if (thing === undefined) return;
    const set = this.byThing.get(thing);
    set?.delete(client);
    if (set?.size === 0) this.byThing.delete(thing);
  }

  clients(): C[] {
    return [...this.sessions.keys()];
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Why a connection is refused, for the log (never secrets: the principal's ids and policy names). */
  private refusal(action: MqttAction, p: DevicePrincipal, grant: DeviceGrant, decision: Decision): string {
    return this.authorization.refusal(action, `client/${p.clientId}`, p, grant, decision);
  }

  private invalidate(thingName: string | undefined): void {
    if (thingName === undefined) this.heardAll++;
    else if (this.connecting > 0) this.heardThings.add(thingName);
    if (thingName === undefined) this.pendingAll = true;
    else this.pendingThings.add(thingName);
    if (this.scheduled) return;
    this.scheduled = true;
    // A burst of changes (a group's members, several attachments) re-binds each connection once.
    setImmediate(() => {
      this.scheduled = false;
      const all = this.pendingAll;
      const things = new Set(this.pendingThings);
      this.pendingAll = false;
      this.pendingThings.clear();
      const concerned = all ? this.sessions.keys() : [...things].flatMap((t) => [...(this.byThing.get(t) ?? [])]);
      for (const client of concerned) {
        const s = this.sessions.get(client);
        if (s) void this.rebind(client, s);
      }
    });
  }

  private async rebind(client: C, s: Session): Promise<void> {
    const generation = ++s.generation;
    try {
      const grant = await this.authorization.grant(s.principal);
      if (this.sessions.get(client) !== s || s.generation !== generation) return;
      s.grant = grant;
      s.decided = new Map();
      const decision = grant.policies.decide('iot:Connect', this.authorization.resource('iot:Connect', s.principal.clientId));
      if (decision !== 'ALLOWED') {
        this.log.warn({ clientId: s.principal.clientId, reason: this.refusal('iot:Connect', s.principal, grant, decision) }, 'MQTT connection closed: its policies no longer allow it');
        this.drop(client);
        this.closeClient(client);
      }
    } catch (err) {
      this.log.error({ err, clientId: s.principal.clientId }, 'MQTT policy re-bind failed; the connection keeps its previous policies');
    }
  }
}
