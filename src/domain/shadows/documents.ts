import { computeDelta } from './delta.js';
import type { JsonObject } from './json-value.js';
import { SECTIONS, type ShadowContent, type ShadowState } from './merge.js';
import { deltaMetadata, metadataOf } from './metadata.js';
import type { UpdateRequest } from './request-document.js';

/*
 * The documents the shadow service answers and publishes (things-and-shadows.md §6.4, §6.5, §7.2).
 * Member order follows AWS's examples. Timestamps are whole epoch seconds; `$package` shadows
 * (content without metadata) carry no `metadata` member anywhere.
 */

/** A shadow version as the update/documents message shows it: no delta. */
export interface ShadowSnapshot {
  content: ShadowContent;
  version: number;
}

/** GetThingShadow and MQTT `get/accepted`: state with delta, metadata with delta (§6.5). */
export function fullDocument(content: ShadowContent, version: number, timestamp: number, clientToken?: string): JsonObject {
  const { desired, reported } = content.state;
  const delta = computeDelta(desired, reported);
  const state: ShadowState & { delta?: JsonObject } = { ...sections(content.state) };
  if (delta) state.delta = delta;
  const doc: Record<string, unknown> = { state };
  if (content.metadata) {
    const metadata: ShadowState & { delta?: JsonObject } = { ...sections(content.metadata) };
    if (delta) metadata.delta = deltaMetadata(delta, content.metadata.desired);
    doc.metadata = metadata;
  }
  doc.version = version;
  doc.timestamp = timestamp;
  if (clientToken !== undefined) doc.clientToken = clientToken;
  return doc as JsonObject;
}

/**
 * UpdateThingShadow's answer and MQTT `update/accepted` (§6.4): the request's `state` as sent
 * (nulls included) and metadata stamping every leaf of it, null leaves too.
 */
export function acceptedDocument(request: UpdateRequest, version: number, timestamp: number, withMetadata: boolean): JsonObject {
  const doc: Record<string, unknown> = { state: request.state };
  if (withMetadata && request.state !== null) {
    const metadata: Record<string, unknown> = {};
    for (const section of SECTIONS) {
      const value = request.state[section];
      if (value !== undefined) metadata[section] = metadataOf(value, timestamp);
    }
    doc.metadata = metadata;
  }
  doc.version = version;
  doc.timestamp = timestamp;
  if (request.clientToken !== undefined) doc.clientToken = request.clientToken;
  return doc as JsonObject;
}

/** MQTT `update/delta` (§7.2): the whole current delta, or undefined when there is none. */
export function deltaDocument(content: ShadowContent, version: number, timestamp: number, clientToken?: string): JsonObject | undefined {
  const delta = computeDelta(content.state.desired, content.state.reported);
  if (!delta) return undefined;
  const doc: Record<string, unknown> = { version, timestamp, state: delta };
  if (content.metadata) doc.metadata = deltaMetadata(delta, content.metadata.desired);
  if (clientToken !== undefined) doc.clientToken = clientToken;
  return doc as JsonObject;
}

/** MQTT `update/documents` (§7.2): previous (left out for a new shadow) and current, without delta. */
export function documentsDocument(previous: ShadowSnapshot | undefined, current: ShadowSnapshot, timestamp: number, clientToken?: string): JsonObject {
  const doc: Record<string, unknown> = {};
  if (previous) doc.previous = snapshot(previous);
  doc.current = snapshot(current);
  doc.timestamp = timestamp;
  if (clientToken !== undefined) doc.clientToken = clientToken;
  return doc as JsonObject;
}

function snapshot(s: ShadowSnapshot): Record<string, unknown> {
  const out: Record<string, unknown> = { state: sections(s.content.state) };
  if (s.content.metadata) out.metadata = sections(s.content.metadata);
  out.version = s.version;
  return out;
}

/** `desired` before `reported`, absent sections left out. */
function sections(s: ShadowState): ShadowState {
  const out: ShadowState = {};
  if (s.desired !== undefined) out.desired = s.desired;
  if (s.reported !== undefined) out.reported = s.reported;
  return out;
}
