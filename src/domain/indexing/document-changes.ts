import type { IndexTerm } from '../../store/fleet-index.js';
import type { Store } from '../../store/store.js';

/**
 * The part of a thing's index document a change touched: its registry entry (name, type,
 * attributes, version), its static and billing groups, its connectivity, or one of its shadows
 * ('' is the classic shadow). `all`: a new thing, or one whose group count fell below the limit.
 */
export type DocumentSource = 'registry' | 'groups' | 'connectivity' | `shadow:${string}`;

export const shadowSource = (shadowName: string | undefined): DocumentSource => `shadow:${shadowName ?? ''}`;

/** A shadow's index rows the change just wrote: a listener need not read them back. */
export interface KnownTerms {
  shadowName: string;
  terms: IndexTerm[];
}

/** Told when one part of many things' documents changed at once: rather than each thing, what reads that part is swept again. */
export interface BulkDocumentListener {
  manyChanged(tx: Store, source: DocumentSource): Promise<void>;
}

export interface DocumentListener {
  documentChanged(tx: Store, thingName: string, sources: DocumentSource[] | 'all', known?: KnownTerms): Promise<void>;
}

/**
 * Told, inside the transaction that made the change, that a thing's index document changed; the
 * registry, shadows and the MQTT door's connectivity report here, dynamic thing groups listen.
 * Listeners are added once the domain is wired (the registry and shadows exist first).
 */
export class DocumentChanges {
  private readonly listeners: DocumentListener[] = [];
  private readonly bulk: BulkDocumentListener[] = [];

  add(listener: DocumentListener): void {
    this.listeners.push(listener);
  }

  addBulk(listener: BulkDocumentListener): void {
    this.bulk.push(listener);
  }

  /** One part of many things' documents changed at once (a deleted thing group or billing group). */
  async manyChanged(tx: Store, source: DocumentSource): Promise<void> {
    for (const l of this.bulk) await l.manyChanged(tx, source);
  }

  async changed(tx: Store, thingName: string, sources: DocumentSource[] | 'all', known?: KnownTerms): Promise<void> {
    for (const l of this.listeners) await l.documentChanged(tx, thingName, sources, known);
  }
}
