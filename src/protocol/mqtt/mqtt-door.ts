import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { JobsDataService } from '../../domain/jobs/jobs-data-service.js';
import type { ShadowService } from '../../domain/shadows/shadow-service.js';
import type { RequestThrottle } from '../http/request-throttle.js';
import { JobsMqtt } from './jobs-mqtt.js';
import type { MqttJobNotifier } from './mqtt-notifier.js';
import { ShadowMqtt } from './shadow-mqtt.js';
import type { DeviceRequest } from './topics.js';
import type { MqttTransport } from './transport.js';

/**
 * Answers device requests that arrive over MQTT, whichever broker carries them: jobs requests on
 * the same code path as HTTPS (replies to the requester, its notifications held until the reply
 * has gone), shadow requests through the shadow service (whose events publish accepted updates).
 */
export function deviceRequestHandler(deps: {
  jobsData: JobsDataService;
  shadows: ShadowService;
  notifier: MqttJobNotifier;
  transport: () => MqttTransport;
  clock: Clock;
  log: Logger;
  /** `--throttle`: jobs requests take the HTTPS data plane's buckets (decision 0050); shadow requests are not counted. */
  throttle?: RequestThrottle;
}) {
  const jobs = new JobsMqtt(deps.jobsData, deps.clock, deps.throttle);
  const shadows = new ShadowMqtt(deps.shadows, deps.clock);
  return async (request: DeviceRequest, topic: string, payload: Buffer, reply: (topic: string, payload: string) => void): Promise<void> => {
    if (request.kind === 'shadow') {
      // Shadow answers are ordinary publishes (things-and-shadows.md §7.1): subscribers get them.
      const answer = await shadows.handle(request, topic, payload);
      if (answer) deps.transport().publish(answer.topic, answer.payload);
      return;
    }
    deps.notifier.hold(request.thingName);
    try {
      const answer = await jobs.handle(request, topic, payload);
      reply(answer.topic, answer.payload);
    } finally {
      deps.notifier.release(request.thingName);
    }
  };
}
