import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { REGION, TEST_CREDENTIALS, type TestServer } from './server.js';

/** An iot-data (Device Shadow) client pointed at a test server; the caller destroys it. */
export function iotDataClient(t: TestServer): IoTDataPlaneClient {
  return new IoTDataPlaneClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}

/** Shadow payloads come back as bytes (httpPayload blobs). */
export function decodeShadow(payload: Uint8Array | undefined): Record<string, any> {
  if (payload === undefined) throw new Error('no payload');
  return JSON.parse(new TextDecoder().decode(payload)) as Record<string, any>;
}

/** Epoch seconds of the test server's virtual clock, as shadow timestamps are. */
export function nowSeconds(t: TestServer): number {
  return Math.floor(t.clock.now() / 1000);
}
