import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { failedWithoutCode, type SbomFileResult } from '../domain/sbom/results.js';
import type { ValidationRequest } from './sbom-validation-thread.js';

/**
 * Runs SBOM file validation on worker threads. Parsing and schema-checking a 50 MB document is
 * seconds of CPU; on the main thread it would stall every request and device for that long. A
 * thread also contains the damage of a hostile file: one that runs out of memory or time ends
 * its thread and fails that file, and the server carries on.
 */
export interface SbomFileValidator {
  validate(fileName: string, bytes: Buffer): Promise<SbomFileResult>;
  close(): Promise<void>;
}

interface Slot {
  thread: Worker;
  /** Handed to a validation (set synchronously in acquire, so two callers never share a thread). */
  reserved: boolean;
  busy?: { id: number; fileName: string; resolve: (r: SbomFileResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
}

/** Reply from a thread: a result, or an unexpected exception's text. */
type Reply = { id: number; result: SbomFileResult } | { id: number; error: string };

function spawn(): Worker {
  const entry = new URL(`./sbom-validation-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  if (entry.pathname.endsWith('.js')) return new Worker(entry);
  // Running from TypeScript sources (tests, `tsx`): threads do not inherit tsx's loader, so register it first.
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true });
}

/** A Buffer's bytes as a standalone ArrayBuffer that can be moved to a thread without copying. */
function transferable(bytes: Buffer): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length && !(bytes.buffer instanceof SharedArrayBuffer)) return bytes;
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

export class SbomValidationThreads implements SbomFileValidator {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async validate(fileName: string, bytes: Buffer): Promise<SbomFileResult> {
    const slot = await this.acquire();
    if (this.closed) throw new Error('SBOM validation threads closed');
    const id = this.nextId++;
    const data = transferable(bytes);
    try {
      return await new Promise<SbomFileResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.retire(slot, failedWithoutCode(fileName, `The file could not be validated within ${Math.round(this.timeoutMs / 1000)} seconds.`));
        }, this.timeoutMs);
        slot.busy = { id, fileName, resolve, reject, timer };
        slot.thread.ref();
        // `data` owns its whole ArrayBuffer (see transferable), so moving it detaches nothing else.
        slot.thread.postMessage({ id, fileName, bytes: data } satisfies ValidationRequest, [data.buffer as ArrayBuffer]);
      });
    } finally {
      this.release(slot);
    }
  }

  /** Ends every thread; validations in progress are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      if (slot.busy) {
        clearTimeout(slot.busy.timer);
        slot.busy.reject(new Error('SBOM validation threads closed'));
        slot.busy = undefined;
      }
    }
    await Promise.all(slots.map((s) => s.thread.terminate()));
  }

  private acquire(): Promise<Slot> {
    if (this.closed) return Promise.reject(new Error('SBOM validation threads closed'));
    const idle = this.slots.find((s) => !s.reserved);
    if (idle) {
      idle.reserved = true;
      return Promise.resolve(idle);
    }
    if (this.slots.length < this.size) return Promise.resolve(this.start());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    if (this.closed || !this.slots.includes(slot)) return; // retired (a waiter got a fresh thread)
    const next = this.waiting.shift();
    if (next) {
      next(slot);
      return;
    }
    slot.reserved = false;
    slot.thread.unref();
  }

  private start(): Slot {
    const slot: Slot = { thread: spawn(), reserved: true };
    slot.thread.on('message', (reply: Reply) => {
      const busy = slot.busy;
      if (!busy || busy.id !== reply.id) return;
      clearTimeout(busy.timer);
      slot.busy = undefined;
      if ('result' in reply) busy.resolve(reply.result);
      else busy.reject(new Error(`SBOM validation failed in its thread: ${reply.error}`));
    });
    slot.thread.on('error', (err) => {
      this.logger.warn({ err, fileName: slot.busy?.fileName }, 'SBOM validation thread failed');
      const reason = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'the validator ran out of memory' : `the validator stopped (${err.message})`;
      this.retire(slot, slot.busy ? failedWithoutCode(slot.busy.fileName, `The file could not be validated: ${reason}.`) : undefined);
    });
    slot.thread.on('exit', () => this.retire(slot));
    this.slots.push(slot);
    return slot;
  }

  /** Removes a thread (timed out, crashed or exited), answering its file with `result`. */
  private retire(slot: Slot, result?: SbomFileResult): void {
    const index = this.slots.indexOf(slot);
    if (index !== -1) this.slots.splice(index, 1);
    const busy = slot.busy;
    slot.busy = undefined;
    if (busy) {
      clearTimeout(busy.timer);
      if (result) busy.resolve(result);
      else busy.reject(new Error(this.closed ? 'SBOM validation threads closed' : 'SBOM validation thread exited'));
    }
    void slot.thread.terminate();
    // A waiter gets a fresh thread in place of this one.
    const next = this.closed ? undefined : this.waiting.shift();
    if (next) next(this.start());
  }
}
