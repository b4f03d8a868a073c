import https from 'node:https';
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { iot, mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import mqtt from 'mqtt';
import { REGION, TEST_CREDENTIALS } from './server.js';

/** An IoT control-plane client over HTTPS that trusts `caPem` (the server's generated CA). */
export function tlsIotClient(url: string, caPem: string): IoTClient {
  return new IoTClient({
    endpoint: url,
    region: REGION,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: caPem }) }),
  });
}

/** A device's TLS material: its client certificate and key, and the CA it trusts. */
export interface DeviceTls {
  cert: string;
  key: string;
  ca: string;
}

/**
 * The SDK's settings for a device calling AWS's data endpoint with mTLS: the client certificate
 * in the HTTPS agent, and no SigV4 at all (the `smithy.api#noAuth` scheme: no credentials are
 * looked up, no Authorization header is sent).
 */
function mtlsClientConfig(url: string, tls: DeviceTls) {
  return {
    endpoint: url,
    region: REGION,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'localhost' }) }),
    httpAuthSchemes: [{ schemeId: 'smithy.api#noAuth', identityProvider: () => async () => ({}), signer: { sign: async <R>(request: R) => request } }],
    httpAuthSchemeProvider: () => [{ schemeId: 'smithy.api#noAuth' }],
  };
}

/** The jobs data plane as a device calls it over HTTPS with its certificate. */
export function mtlsJobsClient(url: string, tls: DeviceTls): IoTJobsDataPlaneClient {
  return new IoTJobsDataPlaneClient(mtlsClientConfig(url, tls));
}

/** The shadow REST API as a device calls it over HTTPS with its certificate. */
export function mtlsShadowClient(url: string, tls: DeviceTls): IoTDataPlaneClient {
  return new IoTDataPlaneClient(mtlsClientConfig(url, tls));
}

export type ConnectOutcome = { connected: mqtt.MqttClient } | { refusedWithConnack: number } | { closedWithoutConnack: true };

/**
 * mqtt.js over TLS with a client certificate: what the CONNECT came to. A socket closed before
 * any CONNACK is AWS's refusal (device-security.md §1.7).
 */
export function mqttsConnect(url: string, clientId: string, tls: { cert?: string; key?: string; ca: string; alpn?: string[] }): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: tls.ca,
      ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      ...(tls.alpn ? { ALPNProtocols: tls.alpn } : {}),
      servername: 'localhost',
    });
    let settled = false;
    client.on('connect', () => {
      settled = true;
      resolve({ connected: client });
    });
    client.on('error', (err) => {
      const code = (err as { code?: number }).code;
      if (!settled && typeof code === 'number') {
        settled = true;
        client.end(true);
        resolve({ refusedWithConnack: code });
      }
    });
    client.on('close', () => {
      if (settled) return;
      settled = true;
      client.end(true);
      resolve({ closedWithoutConnack: true });
    });
  });
}

/** Resolves when the client's connection closes (the server dropped it). */
export function closed(client: mqtt.MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

let crtClient: crtMqtt.MqttClient | undefined;

/** The Device SDK v2's own mTLS builder with a custom CA, as a device connects to AWS IoT. */
export async function sdkMtlsConnect(port: number, clientId: string, certPem: string, keyPem: string, caPem: string): Promise<crtMqtt.MqttClientConnection> {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(certPem, keyPem)
    .with_certificate_authority(caPem)
    .with_endpoint('localhost')
    .with_port(port)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_reconnect_min_sec(1)
    .with_reconnect_max_sec(1)
    .build();
  crtClient ??= new crtMqtt.MqttClient();
  const connection = crtClient.new_connection(config);
  try {
    await connection.connect();
  } catch (err) {
    // A refused connection would otherwise retry in the background.
    await connection.disconnect().catch(() => undefined);
    throw err;
  }
  return connection;
}

/** A device's HTTPS request with its client certificate and no signature. */
export function httpsWithCertificate(url: string, method: string, path: string, tls: { cert?: string; key?: string; ca: string }, body?: string): Promise<{ status: number; body: string; errorType?: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = https.request(u, { method, ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'localhost', agent: false, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => {
        const errorType = res.headers['x-amzn-errortype'];
        resolve({ status: res.statusCode ?? 0, body: text, ...(typeof errorType === 'string' ? { errorType: errorType.split(':')[0] } : {}) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
