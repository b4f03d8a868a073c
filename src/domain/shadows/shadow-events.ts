/**
 * What the shadow service announces after a change commits, whichever door the change came through
 * (REST, MQTT, Jobs' `$package` writes): things-and-shadows.md §7.2, §11 #11. The MQTT door
 * implements this port to publish `update/accepted`, `update/delta`, `update/documents` and
 * `delete/accepted`. Payloads are complete documents ready to serialize; `shadowName` is undefined
 * for the classic shadow. Implementations must not throw: the change has already committed.
 */
export interface ShadowEvents {
  /** After commit: publish update/accepted, update/delta (if non-empty), update/documents for an accepted update. */
  updated(e: { thingName: string; shadowName?: string; accepted: object; delta?: object; documents: object }): void;
  deleted(e: { thingName: string; shadowName?: string; response: object }): void;
}

/** The default until a door subscribes: nobody listens. */
export const noShadowEvents: ShadowEvents = {
  updated: () => undefined,
  deleted: () => undefined,
};
