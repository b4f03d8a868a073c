import type { ShadowRow } from '../../store/shadows.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError, notFound } from '../errors.js';
import { decodeToken, encodeToken, isString } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import { DocumentChanges, shadowSource } from '../indexing/document-changes.js';
import { shadowTerms } from '../indexing/shadow-terms.js';
import { acceptedDocument, deltaDocument, documentsDocument, fullDocument } from './documents.js';
import { setOwn, type JsonObject } from './json-value.js';
import { mergeShadow, type ShadowContent } from './merge.js';
import { MESSAGES, parseUpdateRequest, type UpdateRequest } from './request-document.js';
import { noShadowEvents, type ShadowEvents } from './shadow-events.js';
import { checkShadowKey, noShadowMessage, type ShadowKey } from './shadow-names.js';
import { DEFAULT_SHADOW_SETTINGS, PACKAGE_SHADOW, type ShadowSettings } from './shadow-settings.js';

/** A shadow as the service sees it at one moment: live, tombstoned (within the window) or absent. */
interface CurrentShadow {
  row?: ShadowRow;
  exists: boolean;
  /** The live version, the tombstone's version within the window, else 0 (§6.6). */
  version: number;
  content: ShadowContent;
}

const EMPTY: ShadowContent = { state: {} };
/** Conditional writes retried before giving up; only concurrent first writes of one shadow race. */
const MAX_WRITE_ATTEMPTS = 5;

/**
 * The Device Shadow service (things-and-shadows.md §5–§7): classic and named shadows keyed by
 * (thing, shadow name), independent of the registry; the reserved `$package` shadow keeps no
 * metadata and accepts only `version` / `attributes` per package. Every accepted change is announced
 * through ShadowEvents once it has committed.
 */
export class ShadowService {
  private readonly settings: ShadowSettings;

  constructor(
    private readonly ctx: DomainContext,
    private readonly events: ShadowEvents = noShadowEvents,
    settings: Partial<ShadowSettings> = {},
    /** Dynamic thing groups follow indexed shadow writes (issue 12). */
    private readonly documents: DocumentChanges = new DocumentChanges(),
  ) {
    this.settings = { ...DEFAULT_SHADOW_SETTINGS, ...settings };
  }

  /** GetThingShadow / MQTT get: the full document with delta (§6.5); `clientToken` is echoed (MQTT). */
  async getThingShadow(input: { thingName?: unknown; shadowName?: unknown; clientToken?: string }): Promise<JsonObject> {
    const key = this.key(input);
    const current = await this.load(this.ctx.store, key, false);
    if (!current.exists) throw notFound(noShadowMessage(key));
    return fullDocument(current.content, current.version, this.seconds(), input.clientToken);
  }

  /** UpdateThingShadow / MQTT update: `payload` is the raw request document (§6.1); answers the accepted document (§6.4). */
  async updateThingShadow(input: { thingName?: unknown; shadowName?: unknown; payload: Uint8Array | string }): Promise<JsonObject> {
    const key = this.key(input);
    const request = parseUpdateRequest(input.payload, { maxDepth: this.settings.maxDepth, packageShadow: key.shadowName === PACKAGE_SHADOW });
    return this.ctx.store.transaction((tx) => this.apply(tx, key, request));
  }

  /** DeleteThingShadow / MQTT delete: answers `{version, timestamp}` without bumping the version (§6.6). */
  async deleteThingShadow(input: { thingName?: unknown; shadowName?: unknown; clientToken?: string }): Promise<JsonObject> {
    const key = this.key(input);
    return this.ctx.store.transaction(async (tx) => {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const current = await this.load(tx, key, true);
        if (!current.exists || !current.row) throw notFound(noShadowMessage(key));
        const now = this.ctx.clock.now();
        const tombstone: ShadowRow = { ...current.row, document: '{}', updated_at: now, deleted_at: now };
        if (!(await tx.shadows.replace(tombstone, current.row))) continue;
        // The fleet index forgets the shadow in the same transaction (decision 0025).
        await tx.fleetIndex.replaceShadowTerms(key.thingName, key.shadowName ?? '', []);
        await this.documents.changed(tx, key.thingName, [shadowSource(key.shadowName)], { shadowName: key.shadowName ?? '', terms: [] });
        const response: JsonObject = { version: current.version, timestamp: Math.floor(now / 1000) };
        if (input.clientToken !== undefined) response.clientToken = input.clientToken;
        tx.afterCommit(() => this.announce(() => this.events.deleted({ ...key, response })));
        return response;
      }
      throw this.tooBusy();
    });
  }

  /** ListNamedShadowsForThing (§5.3): live named shadows in name order; the classic shadow is never listed. */
  async listNamedShadowsForThing(input: { thingName?: unknown; nextToken?: unknown; pageSize?: unknown }) {
    const key = this.key({ thingName: input.thingName });
    const errors = new FieldErrors('InvalidRequestException');
    const size = input.pageSize === undefined ? this.settings.defaultPageSize
      : errors.number(input.pageSize, 'pageSize', { integer: true, min: 1, max: 100 });
    const token = errors.string(input.nextToken, 'nextToken');
    errors.throwIfAny();
    const list = `namedShadows:${key.thingName}`;
    const after = decodeToken(list, token, 'InvalidRequestException', isString);
    const limit = size!;
    const names = await this.ctx.store.shadows.listNamed(key.thingName, after, limit + 1);
    const results = names.slice(0, limit);
    const nextToken = names.length > limit ? encodeToken(list, results[limit - 1]) : undefined;
    return { results, ...(nextToken !== undefined ? { nextToken } : {}), timestamp: this.seconds() };
  }

  /** Jobs' write of installed versions into the reserved $package shadow (packages.md §12), inside the caller's transaction:
   *  for each entry, state.reported.<packageName>.version = versionName, or state.reported.<packageName> = null when versionName is null.
   *  Existing `attributes` are kept (merge). Goes through the normal update pipeline (version+1, events). */
  async recordPackageVersions(tx: Store, thingName: string, versions: { packageName: string; versionName: string | null }[]): Promise<void> {
    if (versions.length === 0) return;
    const key = checkShadowKey(thingName, PACKAGE_SHADOW, false);
    const reported: JsonObject = {};
    for (const v of versions) setOwn(reported, v.packageName, v.versionName === null ? null : { version: v.versionName });
    await this.apply(tx, key, { state: { reported } });
  }

  /**
   * The update pipeline after request validation (§6.1 step 8 on): version precondition, merge,
   * size limit, conditional write; events are queued for after the commit.
   */
  private async apply(tx: Store, key: ShadowKey, request: UpdateRequest): Promise<JsonObject> {
    const withMetadata = key.shadowName !== PACKAGE_SHADOW;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.load(tx, key, true);
      if (request.version !== undefined && request.version !== current.version) {
        throw new DomainError('ConflictException', 'Version conflict');
      }
      const now = this.ctx.clock.now();
      const timestamp = Math.floor(now / 1000);
      const content = mergeShadow(current.content, request.state, timestamp, withMetadata);
      if (stateBytes(content) > this.settings.maxStateBytes) {
        throw new DomainError('RequestEntityTooLargeException', MESSAGES.tooLarge);
      }
      const version = current.version + 1;
      const row: ShadowRow = {
        thing_name: key.thingName,
        shadow_name: key.shadowName ?? '',
        document: JSON.stringify(content),
        version,
        updated_at: now,
        deleted_at: null,
      };
      const written = current.row ? await tx.shadows.replace(row, current.row) : await tx.shadows.insert(row);
      if (!written) continue;
      // The fleet index follows the write in the same transaction (decision 0025).
      const terms = shadowTerms(key.shadowName ?? '', content);
      await tx.fleetIndex.replaceShadowTerms(key.thingName, key.shadowName ?? '', terms);
      await this.documents.changed(tx, key.thingName, [shadowSource(key.shadowName)], { shadowName: key.shadowName ?? '', terms });

      const accepted = acceptedDocument(request, version, timestamp, withMetadata);
      const delta = deltaDocument(content, version, timestamp, request.clientToken);
      const previous = current.exists ? { content: current.content, version: current.version } : undefined;
      const documents = documentsDocument(previous, { content, version }, timestamp, request.clientToken);
      tx.afterCommit(() => this.announce(() => this.events.updated({ ...key, accepted, ...(delta ? { delta } : {}), documents })));
      return accepted;
    }
    throw this.tooBusy();
  }

  private async load(store: Store, key: ShadowKey, forUpdate: boolean): Promise<CurrentShadow> {
    const row = await store.shadows.get(key.thingName, key.shadowName ?? '', { forUpdate });
    if (!row) return { exists: false, version: 0, content: EMPTY };
    if (row.deleted_at === null) return { row, exists: true, version: row.version, content: JSON.parse(row.document) as ShadowContent };
    const withinWindow = this.ctx.clock.now() - row.deleted_at < this.settings.tombstoneMs;
    return { row, exists: false, version: withinWindow ? row.version : 0, content: EMPTY };
  }

  private key(input: { thingName?: unknown; shadowName?: unknown }): ShadowKey {
    return checkShadowKey(input.thingName, input.shadowName, this.settings.rejectOtherDollarShadowNames);
  }

  private seconds(): number {
    return Math.floor(this.ctx.clock.now() / 1000);
  }

  /** Events are best effort once the change has committed (AWS does not guarantee delivery either). */
  private announce(publish: () => void): void {
    try {
      publish();
    } catch {
      // A failing subscriber must not turn a committed change into an error for the caller.
    }
  }

  private tooBusy(): DomainError {
    return new DomainError('ThrottlingException', 'Rate exceeded');
  }
}

/** Bytes of compact JSON over `desired` + `reported`; metadata does not count (§6.3, §9). */
function stateBytes(content: ShadowContent): number {
  let n = 0;
  if (content.state.desired !== undefined) n += Buffer.byteLength(JSON.stringify(content.state.desired), 'utf8');
  if (content.state.reported !== undefined) n += Buffer.byteLength(JSON.stringify(content.state.reported), 'utf8');
  return n;
}
