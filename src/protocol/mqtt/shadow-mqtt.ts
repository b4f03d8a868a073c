import type { Clock } from '../../clock.js';
import { DomainError } from '../../domain/errors.js';
import { MESSAGES } from '../../domain/shadows/request-document.js';
import type { ShadowEvents } from '../../domain/shadows/shadow-events.js';
import type { ShadowService } from '../../domain/shadows/shadow-service.js';
import { statusOf } from '../http/errors.js';
import type { MqttReply } from './jobs-mqtt.js';
import { acceptedTopic, rejectedTopic, shadowTopic, type ShadowRequest } from './topics.js';

/**
 * Device Shadow over MQTT (things-and-shadows.md §7), classic and named, `$package` included: the
 * same ShadowService as REST. An accepted update or delete is announced by the service's events
 * (whichever door it came through), so only get answers here, and every refusal: `{code, message,
 * clientToken?, timestamp}` with the HTTP status as the code.
 */
export class ShadowMqtt {
  constructor(
    private readonly shadows: ShadowService,
    private readonly clock: Clock,
  ) {}

  /** Answers one request; undefined when the answer is published by the service's events. Never throws. */
  async handle(request: ShadowRequest, topic: string, payload: Buffer): Promise<MqttReply | undefined> {
    let clientToken: string | undefined;
    try {
      if (request.op === 'update') {
        clientToken = tokenOf(payload);
        await this.shadows.updateThingShadow({ thingName: request.thingName, shadowName: request.shadowName, payload });
        return undefined;
      }
      // get and delete take an empty payload or a JSON object; anything else in it is ignored.
      const body = parseOptional(payload);
      clientToken = typeof body.clientToken === 'string' ? body.clientToken : undefined;
      if (request.op === 'get') {
        const doc = await this.shadows.getThingShadow({ thingName: request.thingName, shadowName: request.shadowName, clientToken });
        return { topic: acceptedTopic(topic), payload: JSON.stringify(doc) };
      }
      await this.shadows.deleteThingShadow({ thingName: request.thingName, shadowName: request.shadowName, clientToken });
      return undefined;
    } catch (err) {
      const code = err instanceof DomainError ? statusOf(err.errorName, { ThrottlingException: 429 }) : 500;
      const message = err instanceof DomainError ? err.message : 'Internal service failure';
      return {
        topic: rejectedTopic(topic),
        payload: JSON.stringify({ code, message, ...(clientToken !== undefined ? { clientToken } : {}), timestamp: Math.floor(this.clock.now() / 1000) }),
      };
    }
  }
}

/** The clientToken of an update request, for its rejection; undefined when there is none to echo. */
function tokenOf(payload: Buffer): string | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { clientToken?: unknown };
    return typeof v?.clientToken === 'string' ? v.clientToken : undefined;
  } catch {
    return undefined;
  }
}

function parseOptional(payload: Buffer): Record<string, unknown> {
  if (payload.length === 0) return {};
  try {
    const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* refused below */
  }
  throw new DomainError('InvalidRequestException', MESSAGES.invalidJson);
}

/** The shadow service's events as MQTT publishes (§7.2), in order: accepted, delta, documents. */
export function mqttShadowEvents(publish: (topic: string, payload: string) => void): ShadowEvents {
  return {
    updated(e) {
      publish(shadowTopic(e.thingName, e.shadowName, 'update/accepted'), JSON.stringify(e.accepted));
      if (e.delta) publish(shadowTopic(e.thingName, e.shadowName, 'update/delta'), JSON.stringify(e.delta));
      publish(shadowTopic(e.thingName, e.shadowName, 'update/documents'), JSON.stringify(e.documents));
    },
    deleted(e) {
      publish(shadowTopic(e.thingName, e.shadowName, 'delete/accepted'), JSON.stringify(e.response));
    },
  };
}
