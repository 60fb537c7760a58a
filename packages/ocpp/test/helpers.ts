/**
 * Test rig: a broker with the OCPP gateway (ws on 127.0.0.1:0) and an MQTT listener for the back
 * end; MQTT.js as the back end; ocpp-rpc RPCClients as chargers.
 */
import { BrokerCore, createAdapterContext, type BrokerOptions, type Logger } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { Waitable } from '@junction/mqtt/testing';
import mqtt, { type MqttClient } from 'mqtt';
import ocppRpc from 'ocpp-rpc';
import { OcppGateway, resolveOcppConfig, type OcppConfigInput } from '../src/index.js';

const { RPCClient } = ocppRpc;
export type Charger = InstanceType<typeof RPCClient>;

export interface RigOptions {
  ocpp?: OcppConfigInput;
  broker?: BrokerOptions;
  log?: Logger;
}

export interface Rig {
  readonly broker: BrokerCore;
  readonly gateway: OcppGateway;
  /** e.g. `ws://127.0.0.1:40000/ocpp` (the first ws listener). */
  readonly endpoint: string;
  readonly port: number;
  readonly mqttUrl: string;
  /** An MQTT.js back end subscribed to `ocpp/cp/#`. */
  backend(subscribe?: string): Promise<Backend>;
  /** An OCPP charger, connected. */
  charger(identity: string, opts?: ChargerOptions): Promise<Charger>;
  stop(): Promise<void>;
}

export interface ChargerOptions {
  protocol?: 'ocpp1.6' | 'ocpp2.0.1';
  protocols?: string[];
  password?: string | Buffer;
  endpoint?: string;
  callTimeoutMs?: number;
  wsOpts?: Record<string, unknown>;
}

let rigs: Rig[] = [];

/** A broker with the OCPP gateway and an MQTT listener; `stopRigs()` in afterEach ends them. */
export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const broker = new BrokerCore(opts.broker);
  const ctx = createAdapterContext(broker, { log: opts.log });
  const config = resolveOcppConfig({
    ...opts.ocpp,
    listeners: opts.ocpp?.listeners ?? { ws: { default: { bind: { host: '127.0.0.1', port: 0 } } } },
  });
  const gateway = new OcppGateway(ctx, config);
  const infos = await gateway.start();
  const mqttAdapter = tcpListenersFactory.create(createAdapterContext(broker), {
    default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 10_000, mountpoint: '' },
  });
  const [mqttInfo] = await mqttAdapter.start();
  const ws = infos.find((i) => i.type === 'ws') ?? infos[0]!;
  const path = Object.values(config.listeners.ws)[0]?.websocket.path ?? '/ocpp';
  const scheme = ws.type === 'wss' ? 'wss' : 'ws';
  const endpoint = `${scheme}://127.0.0.1:${ws.port}${path}`;
  const mqttUrl = `mqtt://127.0.0.1:${mqttInfo!.port}`;
  const clients: { close(): Promise<unknown> }[] = [];
  let stopped: Promise<void> | undefined;
  const rig: Rig = {
    broker,
    gateway,
    endpoint,
    port: ws.port,
    mqttUrl,
    async backend(subscribe = 'ocpp/cp/#') {
      const b = new Backend(await mqtt.connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0 }));
      clients.push({ close: () => b.client.endAsync(true) });
      await b.client.subscribeAsync(subscribe, { qos: 2 });
      return b;
    },
    async charger(identity, o = {}) {
      const cli = new RPCClient({
        endpoint: o.endpoint ?? endpoint,
        identity,
        protocols: o.protocols ?? [o.protocol ?? 'ocpp1.6'],
        password: o.password,
        reconnect: false,
        callTimeoutMs: o.callTimeoutMs ?? 5000,
        pingIntervalMs: 0,
        wsOpts: o.wsOpts,
      } as never);
      clients.push({ close: () => cli.close({ force: true }) });
      await cli.connect();
      return cli;
    },
    stop: () =>
      (stopped ??= (async () => {
        await Promise.allSettled(clients.map((c) => c.close()));
        await gateway.stop({ drainMs: 200 });
        await mqttAdapter.stop({ drainMs: 200 });
        await broker.close();
      })()),
  };
  rigs.push(rig);
  return rig;
}

export async function stopRigs(): Promise<void> {
  const all = rigs;
  rigs = [];
  await Promise.all(all.map((r) => r.stop()));
}

/** One message the back end received: topic and parsed JSON. */
export interface Seen {
  topic: string;
  json: Record<string, unknown>;
  retain: boolean;
}

/** The back end: records what it receives, sends OCPP message objects to `ocpp/cs/{cid}`. */
export class Backend extends Waitable {
  readonly seen: Seen[] = [];

  constructor(readonly client: MqttClient) {
    super();
    client.on('message', (topic, payload, packet) => {
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(payload.toString()) as Record<string, unknown>;
      } catch {
        json = { raw: payload.toString() };
      }
      this.seen.push({ topic, json, retain: packet.retain });
      this.changed();
    });
  }

  protected describe(): string {
    return JSON.stringify(this.seen.map((s) => [s.topic, s.json]));
  }

  /** The first message on `topic` matching `match` (a subset of its fields). */
  next(topic: string, match: Record<string, unknown> = {}, timeoutMs = 3000): Promise<Seen> {
    return this.until(() => this.seen.find((s) => s.topic === topic && matches(s.json, match)), `${topic} ${JSON.stringify(match)}`, timeoutMs);
  }

  /** Messages on `topic` so far. */
  on(topic: string): Seen[] {
    return this.seen.filter((s) => s.topic === topic);
  }

  async send(cid: string, message: Record<string, unknown> | string): Promise<void> {
    await this.client.publishAsync(`ocpp/cs/${cid}`, typeof message === 'string' ? message : JSON.stringify(message), { qos: 1 });
  }

  /** Answers every CALL of `action` on `ocpp/cp/{cid}` with `payload` (a function of the request). */
  answer(action: string, payload: (req: Record<string, unknown>, cid: string) => unknown): void {
    this.client.on('message', (topic, buf) => {
      const m = /^ocpp\/cp\/([^/]+)$/.exec(topic);
      if (!m) return;
      const msg = JSON.parse(buf.toString()) as { MessageTypeId: number; UniqueId: string; Action: string; Payload: Record<string, unknown> };
      if (msg.MessageTypeId !== 2 || msg.Action !== action) return;
      void this.send(m[1]!, { MessageTypeId: 3, UniqueId: msg.UniqueId, Payload: payload(msg.Payload, m[1]!) });
    });
  }
}

function matches(obj: Record<string, unknown>, subset: Record<string, unknown>): boolean {
  return Object.entries(subset).every(([k, v]) => JSON.stringify(obj[k]) === JSON.stringify(v) || (typeof v === 'function' && (v as (x: unknown) => boolean)(obj[k])));
}

/** The RPC error a charger's call rejected with. */
export async function rpcErrorOf(p: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await p;
  } catch (err) {
    const e = err as { rpcErrorCode?: string; message: string; details?: unknown };
    return { code: e.rpcErrorCode ?? `not an RPC error: ${e.message}`, message: e.message, details: e.details };
  }
  throw new Error('expected the call to fail');
}

/** Connecting fails: the HTTP status of the refused upgrade. */
export async function refusedStatus(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; message: string };
    return e.code ?? e.message;
  }
  throw new Error('expected the connection to be refused');
}

/** Waits until `check` holds, polling every 10 ms. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const bootPayload16 = { chargePointVendor: 'Junction', chargePointModel: 'JX-1' };
export const bootPayload201 = { reason: 'PowerUp', chargingStation: { model: 'JX-2', vendorName: 'Junction' } };
export const now = () => new Date().toISOString();
