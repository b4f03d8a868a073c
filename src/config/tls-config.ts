import { ConfigError } from './config.js';

/**
 * The TLS settings (issue 11 item 1, decisions 0030–0031): HTTPS on the HTTP port and the MQTT TLS
 * listener, with the operator's certificate or one `--tls` makes in `<data-dir>/tls/`, and the CA
 * that signs device certificates.
 */
export interface TlsConfig {
  /** `--tls-cert` / `--tls-key`: the server's certificate (chain) and key; unset with a generated one. */
  certFile?: string;
  keyFile?: string;
  /** The MQTT TLS listener's port (0 = any free one); undefined when the MQTT door is off or external. */
  mqttTlsPort?: number;
}

export interface DeviceCaConfig {
  certFile: string;
  keyFile: string;
}

export interface TlsFlags {
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  mqttTlsPort?: string | number;
  deviceCaCert?: string;
  deviceCaKey?: string;
}

type Pick = (flag: string | number | undefined, name: string) => string | undefined;

export function resolveTlsConfig(flags: TlsFlags, pick: Pick, tlsEnv: boolean, embeddedMqtt: boolean): { tls?: TlsConfig; deviceCa?: DeviceCaConfig } {
  const certFile = pick(flags.tlsCert, 'TLS_CERT');
  const keyFile = pick(flags.tlsKey, 'TLS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('give both --tls-cert and --tls-key (FLEETJOBS_TLS_CERT / FLEETJOBS_TLS_KEY), or neither');
  const caCert = pick(flags.deviceCaCert, 'DEVICE_CA_CERT');
  const caKey = pick(flags.deviceCaKey, 'DEVICE_CA_KEY');
  if ((caCert === undefined) !== (caKey === undefined)) throw new ConfigError('give both --device-ca-cert and --device-ca-key (FLEETJOBS_DEVICE_CA_CERT / FLEETJOBS_DEVICE_CA_KEY), or neither');
  const on = flags.tls === true || tlsEnv || certFile !== undefined;
  const portText = pick(flags.mqttTlsPort, 'MQTT_TLS_PORT');
  if (!on && portText !== undefined) throw new ConfigError('--mqtt-tls-port (FLEETJOBS_MQTT_TLS_PORT) needs TLS: add --tls, or --tls-cert and --tls-key');
  const mqttTlsPort = Number(portText ?? '8883');
  if (portText !== undefined && (!/^\d+$/.test(portText) || mqttTlsPort > 65535)) throw new ConfigError(`invalid MQTT TLS port: ${portText}`);
  const deviceCa = caCert !== undefined ? { certFile: caCert, keyFile: caKey! } : undefined;
  if (!on) return deviceCa ? { deviceCa } : {};
  return {
    tls: { ...(certFile !== undefined ? { certFile, keyFile } : {}), ...(embeddedMqtt ? { mqttTlsPort } : {}) },
    ...(deviceCa ? { deviceCa } : {}),
  };
}
