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

/**
 * Runs a mutating operation at most once per (operation, clientToken): the same token with the same
 * parameters replays the stored response; with different parameters it is refused. The lookup, the
 * change and the record commit in one transaction. Failed operations leave no record.
 */
export async function idempotent<T>(
  store: Store,
  clock: Clock,
  operation: string,
  clientToken: string | undefined,
  parameters: unknown,
  run: (tx: Store) => Promise<T>,
  errorName: AwsErrorName = 'ValidationException',
): Promise<T> {
  if (clientToken === undefined) return store.transaction(run);
  const requestHash = createHash('sha256').update(JSON.stringify(parameters ?? null)).digest('hex');
  return store.transaction(async (tx) => {
    const now = clock.now();
    const previous = await tx.idempotency.get(operation, clientToken);
    if (previous && previous.created_at > now - IDEMPOTENCY_WINDOW_MS) {
      if (previous.request_hash !== requestHash) {
        throw new DomainError(errorName, 'The client token was already used with different request parameters; use a new client token.');
      }
      return JSON.parse(previous.response) as T;
    }
    const result = await run(tx);
    await tx.idempotency.put({ operation, client_token: clientToken, request_hash: requestHash, response: JSON.stringify(result ?? {}), created_at: now });
    return result;
  });
}
