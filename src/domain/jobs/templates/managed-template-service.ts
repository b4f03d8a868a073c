import type { Arns } from '../../arns.js';
import { invalidRequest, notFound } from '../../errors.js';
import { decodeToken, page, pageSize } from '../../pagination.js';
import { FieldErrors } from '../../validation.js';
import { findManagedTemplate, MANAGED_JOB_TEMPLATES, parameterPattern, type ManagedJobTemplate } from './managed-templates.js';
import { describeManagedTemplateView, managedTemplateSummary } from './template-views.js';

const TEMPLATE_VERSION = /^[1-9]+.[0-9]+$/;
const isNameVersion = (k: unknown): k is [string, string] => Array.isArray(k) && k.length === 2 && k.every((s) => typeof s === 'string');

export const managedTemplateNotFound = (resource: string) => notFound(`Job Template ${resource} cannot be found.`);

/** DescribeManagedJobTemplate and ListManagedJobTemplates over the built-in catalogue (jobs.md §7.5). */
export class ManagedJobTemplateService {
  constructor(private readonly arns: Arns) {}

  describeManagedJobTemplate(input: { templateName?: unknown; templateVersion?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const name = errors.string(input.templateName, 'templateName', { required: true, min: 1, max: 64 });
    const version = errors.string(input.templateVersion, 'templateVersion', { pattern: TEMPLATE_VERSION, patternText: '^[1-9]+.[0-9]+$' });
    errors.throwIfAny();
    const t = findManagedTemplate(name!, version);
    if (!t) throw managedTemplateNotFound(version === undefined ? name! : `${name}:${version}`);
    return describeManagedTemplateView(this.arns.partition, this.arns.region, t);
  }

  listManagedJobTemplates(input: { templateName?: unknown; maxResults?: unknown; nextToken?: string }) {
    const errors = new FieldErrors('InvalidRequestException');
    const name = errors.string(input.templateName, 'templateName', { min: 1, max: 64 });
    const limit = pageSize(errors, input.maxResults, 250);
    errors.throwIfAny();
    const after = decodeToken('managedJobTemplates', input.nextToken, 'InvalidRequestException', isNameVersion);
    const sorted = MANAGED_JOB_TEMPLATES.filter((t) => name === undefined || t.templateName === name)
      .map((t) => ({ t, key: [t.templateName, t.templateVersion] as [string, string] }))
      .sort((a, b) => compareKeys(a.key, b.key));
    const rows = sorted.filter((r) => after === undefined || compareKeys(r.key, after) > 0).slice(0, limit + 1);
    const { items, nextToken } = page(rows, limit, 'managedJobTemplates', (r) => r.key);
    return {
      managedJobTemplates: items.map((r) => managedTemplateSummary(this.arns.partition, this.arns.region, r.t)),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}

function compareKeys(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/**
 * The parameters a job made from a managed template gets: every given value must be a parameter of
 * the template and match its regex (a full match), every required one must be given, and an
 * optional one left out becomes '' (the device client reads an empty runAsUser / path as "unset").
 */
export function effectiveParameters(t: ManagedJobTemplate, given: Record<string, string> | undefined): Record<string, string> {
  const values = given ?? {};
  const known = new Set(t.documentParameters.map((p) => p.key));
  for (const key of Object.keys(values)) {
    if (!known.has(key)) throw invalidRequest(`Document parameter ${key} is not a parameter of managed template ${t.templateName}.`);
  }
  const out: Record<string, string> = {};
  for (const p of t.documentParameters) {
    const value = Object.hasOwn(values, p.key) ? values[p.key] : undefined;
    if (value === undefined) {
      if (!p.optional) throw invalidRequest(`Document parameter ${p.key} is required by managed template ${t.templateName}.`);
      out[p.key] = '';
    } else if (!parameterPattern(p).test(value)) {
      throw invalidRequest(`Document parameter ${p.key} of managed template ${t.templateName} must satisfy regular expression pattern: ${p.regex}`);
    } else {
      out[p.key] = value;
    }
  }
  return out;
}
