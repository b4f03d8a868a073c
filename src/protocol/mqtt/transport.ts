/**
 * How the MQTT door sends what the service publishes (notifications, shadow events): through the
 * embedded broker or an external one. Replies to a request travel with the request instead.
 */
export interface MqttTransport {
  /** To every client subscribed to `topic` (and allowed to see it). */
  publish(topic: string, payload: string): void;
  /** Whether a client acting for `thingName` is connected now; absent when the transport cannot know. */
  listening?(thingName: string): boolean;
}

/** What a door has carried, for the metrics: clients connected now, messages in and out so far. */
export interface MqttStats {
  readonly connections: number;
  readonly received: number;
  readonly sent: number;
}
