import { parentPort } from 'node:worker_threads';
import { validateSbomFile } from '../domain/sbom/validate-file.js';

/**
 * Entry of a validation thread (see sbom-validation-threads.ts): parses and schema-checks one
 * file per message, off the main event loop. Compiled schemas stay cached for the thread's life.
 */
export interface ValidationRequest {
  id: number;
  fileName: string;
  bytes: Uint8Array;
}

const port = parentPort;
if (port) {
  port.on('message', (req: ValidationRequest) => {
    try {
      port.postMessage({ id: req.id, result: validateSbomFile(req.fileName, req.bytes) });
    } catch (err) {
      port.postMessage({ id: req.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  });
}
