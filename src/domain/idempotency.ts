import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { DomainError, type AwsErrorName } from './errors.js';
import { FieldErrors } from './validation.js';

/** AWS keeps idempotency tokens for about 8 hours (packages.md §6). */
export const IDEMPOTENCY_WINDOW_MS = 8 * 3600 * 1000;

export function checkClientToken(errors: FieldErrors, token: unknown): string | undefined {
  return errors.string(token, 'clientToken', { min: 36, max: 64, pattern: /^\S{36,64}$/, patternText: '\\S{36,64}' });
}

export interface IdempotentOptions {
  /** The error for a token reused with other parameters. */
  errorName?: AwsErrorName;
  /**
   * Checks that must not run inside the transaction (object-store lookups) and must not refuse a
   * replay: a retried call that already succeeded gets its answer even if, say, its artifact has
   * been deleted since. Runs only when there is nothing to replay.
   */
  precheck?: () => Promise<void>;
}

/**
 * Runs a mutating operation at most once per (operation, clientToken): the same token with the same
 * parameters replays the stored response; with different parameters it is refused. The lookup, the
 * change and the record commit in one transaction. Failed operations leave no record. Records
 * past the window count as absent here, and the idempotency-purge reconciler deletes them.
 */
export async function idempotent<T>(
  store: Store,
  clock: Clock,
  operation: string,
  clientToken: string | undefined,
  parameters: unknown,
  run: (tx: Store) => Promise<T>,
  options: IdempotentOptions = {},
): Promise<T> {
  if (clientToken === undefined) {
    await options.precheck?.();
    return retryOnDuplicateKey(() => store.transaction(run));
  }
  const requestHash = createHash('sha256').update(JSON.stringify(parameters ?? null)).digest('hex');
  const replay = async (reader: Store): Promise<{ response: T } | undefined> => {
    const previous = await reader.idempotency.get(operation, clientToken);
    if (!previous || previous.created_at <= clock.now() - IDEMPOTENCY_WINDOW_MS) return undefined;
    if (previous.request_hash !== requestHash) {
      throw new DomainError(options.errorName ?? 'ValidationException', 'The client token was already used with different request parameters; use a new client token.');
    }
    return { response: JSON.parse(previous.response) as T };
  };
  if (options.precheck) {
    const stored = await replay(store);
    if (stored) return stored.response;
    await options.precheck();
  }
  return retryOnDuplicateKey(() => store.transaction(async (tx) => {
    const now = clock.now();
    const earlier = await replay(tx);
    if (earlier) return earlier.response;
    let result: T;
    try {
      result = await run(tx);
    } catch (err) {
      // A concurrent request with this token may have committed while this one ran (PostgreSQL
      // reads committed rows per statement), which is why `run` found a conflict: answer its replay.
      if (err instanceof DomainError) {
        const late = await replay(tx);
        if (late) return late.response;
      }
      throw err;
    }
    await tx.idempotency.put({ operation, client_token: clientToken, request_hash: requestHash, response: JSON.stringify(result ?? {}), created_at: now });
    return result;
  }));
}

/**
 * Two concurrent requests can both find no row (no package, no token) and both insert; on
 * PostgreSQL the loser fails on the unique key. Running its transaction again lets it see the
 * winner's commit and answer as AWS would (ConflictException, or the replayed response) instead
 * of a 500. Recognises the drivers' unique-violation codes without importing either driver.
 */
async function retryOnDuplicateKey<T>(attempt: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= attempts || !isDuplicateKeyError(err)) throw err;
    }
  }
}

function isDuplicateKeyError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  // PostgreSQL unique_violation; SQLite (better-sqlite3) primary-key / unique constraint.
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
