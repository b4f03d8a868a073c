import { checkName } from '../things/thing-rules.js';
import { FieldErrors } from '../validation.js';
import { PACKAGE_SHADOW } from './shadow-settings.js';

const SHADOW_NAME = /^[$a-zA-Z0-9:_-]+$/;

/** The shadow a request addresses: `shadowName` undefined is the classic (unnamed) shadow. */
export interface ShadowKey {
  thingName: string;
  shadowName?: string;
}

/**
 * Validates the thing name and optional shadow name of an iot-data request (things-and-shadows.md
 * §2): thing 1–128 `[a-zA-Z0-9:_-]+`, shadow 1–64 `[$a-zA-Z0-9:_-]+`. The SDKs send whatever the
 * caller gives (an empty `?name=` included), so the server checks.
 */
export function checkShadowKey(thingName: unknown, shadowName: unknown, rejectOtherDollarNames: boolean): ShadowKey {
  const errors = new FieldErrors('InvalidRequestException');
  const thing = checkName(errors, thingName, 'thingName');
  const shadow = shadowName === undefined ? undefined
    : errors.string(shadowName, 'shadowName', { min: 1, max: 64, pattern: SHADOW_NAME, patternText: '[$a-zA-Z0-9:_-]+' });
  if (shadow !== undefined && rejectOtherDollarNames && shadow.startsWith('$') && shadow !== PACKAGE_SHADOW) {
    errors.addRaw(`Shadow name ${shadow} is reserved: names starting with $ are reserved for AWS.`);
  }
  errors.throwIfAny();
  return shadow === undefined ? { thingName: thing! } : { thingName: thing!, shadowName: shadow };
}

/** The 404 text names the shadow, or the thing for the classic shadow (§5.2). */
export function noShadowMessage(key: ShadowKey): string {
  return `No shadow exists with name: '${key.shadowName ?? key.thingName}'`;
}
