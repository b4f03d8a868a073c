import v8 from 'node:v8';
import vm from 'node:vm';
import { auth, io, iot, mqtt } from 'aws-crt';
import { iotjobs, iotshadow } from 'aws-iot-device-sdk-v2';

/**
 * A device on the AWS IoT Device SDK v2 (aws-crt), connected over plain TCP as a test needs: the
 * SDK's IoT builder always makes a TLS context, so the connection config is built by hand with
 * what the builder would send (devices-and-engine.md §2): MQTT 3.1.1, clean=false, keepalive
 * 1200 s, the SDK-metrics username.
 */
export interface SdkDevice {
  connection: mqtt.MqttClientConnection;
  /** Requests and replies: the v2 request/response clients. */
  jobs: iotjobs.IotJobsClientv2;
  shadow: iotshadow.IotShadowClientv2;
  /**
   * Event subscriptions: the v1 clients. A v2 streaming operation (aws-crt 1.33.1) keeps the
   * process alive after it is closed and aborts it at exit [tested], which would fail the file.
   */
  jobsEvents: iotjobs.IotJobsClient;
  shadowEvents: iotshadow.IotShadowClient;
  /** Whether the broker had kept this client's session (CONNACK session_present). */
  sessionPresent: boolean;
  close(): Promise<void>;
}

let crtClient: mqtt.MqttClient | undefined;

/**
 * Over WebSockets with SigV4, as the SDK's websockets builder connects with static credentials
 * (device-security.md §6.3): the URL is signed for `iotdevicegateway` without X-Amz-Expires. The
 * builder always makes a TLS context; the HTTP port here is plain, so the config is used without it.
 */
export function sdkWebSocketConfig(httpUrl: string, thingName: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = 'us-east-1'): mqtt.MqttConnectionConfig {
  const url = new URL(httpUrl);
  const builder = iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({
    region,
    credentials_provider: auth.AwsCredentialsProvider.newStatic(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken),
  })
    .with_endpoint(url.hostname)
    .with_port(Number(url.port))
    .with_client_id(thingName)
    .with_clean_session(false)
    .with_keep_alive_seconds(1200)
    .with_reconnect_min_sec(1)
    .with_reconnect_max_sec(1);
  const config = builder.build();
  return { ...config, tls_ctx: undefined };
}

export async function connectSdkDevice(mqttUrl: string, thingName: string, options: { cleanSession?: boolean; onMessage?: (topic: string, payload: ArrayBuffer) => void; config?: mqtt.MqttConnectionConfig } = {}): Promise<SdkDevice> {
  const url = new URL(mqttUrl);
  crtClient ??= new mqtt.MqttClient();
  const connection = crtClient.new_connection(options.config ?? {
    client_id: thingName,
    host_name: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port),
    clean_session: options.cleanSession ?? false,
    keep_alive: 1200,
    socket_options: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.IPV4, 5000),
    username: '?SDK=IoTDeviceSDK/JS&Platform=Unix&Metadata=(CRTVersion=1.33.1;IoTSDKVersion=1.28.0)',
    // Tests stop their devices; a connection that drops must fail the test, not reconnect quietly.
    reconnect_min_sec: 1,
    reconnect_max_sec: 1,
  });
  // Messages a kept session delivers arrive with the CONNACK, before any handler subscribes again.
  if (options.onMessage) connection.on('message', options.onMessage);
  const sessionPresent = await connection.connect();
  const rr = { maxRequestResponseSubscriptions: 6, maxStreamingSubscriptions: 4, operationTimeoutInSeconds: 10 };
  let closing: Promise<void> | undefined;
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, rr);
  const shadow = iotshadow.IotShadowClientv2.newFromMqtt311(connection, rr);
  return {
    connection,
    jobs,
    shadow,
    jobsEvents: new iotjobs.IotJobsClient(connection),
    shadowEvents: new iotshadow.IotShadowClient(connection),
    sessionPresent,
    close() {
      closing ??= (async () => {
        jobs.close();
        shadow.close();
        const closed = new Promise<void>((resolve) => connection.on('closed', () => resolve()));
        await connection.disconnect();
        // The native connection is released on 'closed', after the DISCONNECT.
        await closed;
      })();
      return closing;
    },
  };
}

/**
 * Events a subscription delivers, kept from the moment it is granted, so a test awaits the event
 * it expects without sleeping and without missing an early one.
 */
export class EventQueue<T> {
  private readonly events: T[] = [];
  private waiter?: (e: T) => void;

  /** `subscribe` is one of the v1 clients' subscribeTo…Events, given the queue's handler. */
  static async open<T>(subscribe: (handler: (error?: unknown, event?: T) => void) => Promise<unknown>): Promise<EventQueue<T>> {
    const q = new EventQueue<T>();
    await subscribe((error, event) => {
      if (!error && event !== undefined) q.push(event);
    });
    return q;
  }

  private push(e: T): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(e);
    } else this.events.push(e);
  }

  next(timeoutMs = 5000): Promise<T> {
    const e = this.events.shift();
    if (e !== undefined) return Promise.resolve(e);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
  }
}

/** The code of a rejected request's modelled error (RejectedErrorResponse), for assertions. */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; message?: string; executionState?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    const modeled = (err as { modeledError?: { code?: string; message?: string; executionState?: Record<string, unknown> } }).modeledError;
    if (modeled) return modeled;
    throw err;
  }
  throw new Error('the request was accepted');
}

/**
 * Collects the closed SDK objects while the process is alive. aws-crt 1.33.1 releases a native
 * callback in each object's finalizer; a finalizer left for process teardown aborts Node
 * (napi_release_threadsafe_function during FreeEnvironment) [tested], which fails the test file
 * after every test in it passed. A suite calls this in `after`, once its devices are closed.
 */
export async function releaseSdkObjects(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}
