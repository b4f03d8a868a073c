import { readFileSync } from 'node:fs';
import { AWS_RATES } from './aws-rates.js';

/**
 * `--throttle off|aws|FILE` (FLEETJOBS_THROTTLE; decision 0041). Each limit is one token bucket
 * shared by its operations of one API: `perSecond` requests on average, `burst` at once.
 */
export interface ThrottleLimit {
  api: ThrottledApi;
  operations: string[];
  perSecond: number;
  burst: number;
}

/** The APIs whose operations can be throttled, by the name the request log gives them. */
export const THROTTLED_APIS = ['iot', 'iot-jobs-data', 'iotdata'] as const;
export type ThrottledApi = (typeof THROTTLED_APIS)[number];

export class ThrottleFileError extends Error {}

const OPERATION = /^[A-Z][A-Za-z0-9]{1,127}$/;
const MAX_RATE = 1_000_000;

/**
 * The limits `--throttle` names: none for `off` (the default), AWS's table for `aws`, else the JSON
 * file at that path:
 *
 *   { "limits": [ { "api": "iot", "operations": ["CreateJob"], "perSecond": 10, "burst": 20 }, … ] }
 *
 * `burst` defaults to `perSecond`. An operation may appear in one limit of its API only.
 */
export function resolveThrottle(value: string | undefined): ThrottleLimit[] {
  if (value === undefined || value === 'off') return [];
  if (value === 'aws') return AWS_RATES.map((l) => ({ ...l, operations: [...l.operations] }));
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch (err) {
    throw new ThrottleFileError(`--throttle: '${value}' is neither off, aws nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ThrottleFileError(`--throttle ${value}: not valid JSON (${(err as Error).message})`);
  }
  return parseLimits(parsed, `--throttle ${value}`);
}

/** Checks a rates document's shape; every problem is named with its place in the file. */
export function parseLimits(doc: unknown, where: string): ThrottleLimit[] {
  const fail = (at: string, msg: string): never => {
    throw new ThrottleFileError(`${where}: ${at} ${msg}`);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('the document', 'must be a JSON object { "limits": [...] }');
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top)) if (k !== 'limits') fail(`"${k}"`, 'is no known member (only "limits")');
  if (!Array.isArray(top.limits)) fail('"limits"', 'must be an array');
  const seen = new Set<string>();
  return (top.limits as unknown[]).map((entry, i) => {
    const at = `limits[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(at, 'must be an object');
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!['api', 'operations', 'perSecond', 'burst'].includes(k)) fail(`${at}."${k}"`, 'is no known member (api, operations, perSecond, burst)');
    if (typeof e.api !== 'string' || !(THROTTLED_APIS as readonly string[]).includes(e.api)) fail(`${at}.api`, `must be one of ${THROTTLED_APIS.join(', ')}`);
    if (!Array.isArray(e.operations) || e.operations.length === 0) fail(`${at}.operations`, 'must be a non-empty array of operation names');
    const operations = (e.operations as unknown[]).map((op, j) => {
      if (typeof op !== 'string' || !OPERATION.test(op)) fail(`${at}.operations[${j}]`, 'must be an operation name such as "CreateJob"');
      const key = `${e.api as string} ${op as string}`;
      if (seen.has(key)) fail(`${at}.operations[${j}]`, `names ${e.api as string} ${op as string}, which another limit already holds`);
      seen.add(key);
      return op as string;
    });
    const rate = (name: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > MAX_RATE) fail(`${at}.${name}`, `must be a number above 0 and at most ${MAX_RATE}`);
      return v as number;
    };
    const perSecond = rate('perSecond', e.perSecond);
    const burst = e.burst === undefined ? Math.max(1, perSecond) : rate('burst', e.burst);
    if (burst < 1) fail(`${at}.burst`, 'must be at least 1 (a request takes one token)');
    return { api: e.api as ThrottledApi, operations, perSecond, burst };
  });
}
