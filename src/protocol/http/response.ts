import { validateHeaderName, validateHeaderValue, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';

/**
 * The one way responses start. node's writeHead throws on a header value it cannot send (a newline,
 * a character beyond Latin-1), and leaves the response half-set: the status line of the failed call
 * stays and a later error answer would go out as `500 No Content` with a length it never sends,
 * desynchronising a kept-alive connection. So every header is checked first, and a response whose
 * head failed anyway is never written to again: the connection is closed instead.
 */

export class UnsafeResponseHeaderError extends Error {
  constructor(readonly header: string) {
    super(`response header ${header} holds a value HTTP cannot carry`);
  }
}

const poisoned = new WeakSet<ServerResponse>();

export function writeHead(res: ServerResponse, status: number, headers: OutgoingHttpHeaders): void {
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    try {
      validateHeaderName(name);
      for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, String(v));
    } catch {
      throw new UnsafeResponseHeaderError(name);
    }
  }
  try {
    res.writeHead(status, headers);
  } catch (err) {
    poisoned.add(res);
    throw err;
  }
}

/** Whether an error may still be answered on this response; if not, the caller closes the connection. */
export function canStartResponse(res: ServerResponse): boolean {
  return !res.headersSent && !poisoned.has(res);
}
