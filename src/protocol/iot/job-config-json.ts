import { controlPlaneJson } from '../http/json.js';
import type { RouteResult } from '../http/route.js';

/**
 * controlPlaneJson, with the two `double` members of the job configurations written as AWS writes
 * them: `incrementFactor` and `thresholdPercentage` always carry a fraction (`2.0`, not `2`), so
 * clients that type by JSON number form (boto3) read floats (jobs.md §1.4).
 */
const DOUBLE_MEMBERS = /"(incrementFactor|thresholdPercentage)":(-?\d+)(?=[,}\]])/g;

export function jobControlPlaneJson(value: unknown): RouteResult {
  const result = controlPlaneJson(value);
  return { ...result, rawBody: String(result.rawBody).replace(DOUBLE_MEMBERS, '"$1":$2.0') };
}
