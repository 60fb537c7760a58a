/**
 * EMQX's listener limiters over WebSocket: max_conn_rate holds handshakes over the rate
 * unanswered and lets them in as the rate allows; messages_rate pauses reading a publisher and
 * still delivers every message, in order.
 */
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { defaultMqttOptions } from '@junction/mqtt';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultWebsocketOptions, wsListenersFactory, type WebSocketListenerGroup, type WsListenerConfig } from '../src/index.js';
import { openWebSocket } from '../src/testing/index.js';
import { eventually, FrameClient } from './ws-client.js';

interface Rig {
  broker: BrokerCore;
  adapter: WebSocketListenerGroup;
  url: string;
}

const rigs: Rig[] = [];
const clients: MqttClient[] = [];
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${++seq}`;

async function startRig(over: Partial<WsListenerConfig>): Promise<Rig> {
  const broker = new BrokerCore({ config: { allow_anonymous: true } });
  const adapter = wsListenersFactory.create(createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } }), {
    default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '', websocket: defaultWebsocketOptions, ...over },
  }) as WebSocketListenerGroup;
  const [info] = await adapter.start();
  const rig = { broker, adapter, url: `ws://127.0.0.1:${info!.port}/mqtt` };
  rigs.push(rig);
  return rig;
}

function client(url: string, clientId: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId, reconnectPeriod: 0, protocolVersion: 5 });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  for (const r of rigs.splice(0)) {
    await r.adapter.stop({ drainMs: 200 });
    await r.broker.close();
  }
});

describe('WebSocket listener rate limits', () => {
  it('max_conn_rate holds handshakes over the rate unanswered, then admits them all', async () => {
    const rig = await startRig({ max_conn_rate: '2/s' });
    const handler = rig.adapter.listeners[0]!.handler;
    const opened: boolean[] = [false, false, false, false, false];
    const sockets = Promise.all(opened.map((_, i) => openWebSocket(rig.url).then((ws) => ((opened[i] = true), ws))));
    await eventually(() => handler.waiting === 3, 'three handshakes waiting');
    expect(opened.filter(Boolean).length).toBeLessThanOrEqual(2);
    const all = await sockets;
    expect(handler.waiting).toBe(0);
    // Every one of them works.
    for (const ws of all) {
      const c = new FrameClient(ws, 4);
      expect(await c.connect(uid('rate'))).toMatchObject({ cmd: 'connack', returnCode: 0 });
      ws.terminate();
    }
  });

  it('messages_rate pauses a publisher; every message arrives, in order', async () => {
    const rig = await startRig({ messages_rate: '100/s' });
    const sub = await client(rig.url, uid('sub'));
    await sub.subscribeAsync('ws/rate', { qos: 0 });
    const got: string[] = [];
    sub.on('message', (_t, p) => got.push(p.subarray(0, 8).toString()));
    const pubId = uid('pub');
    const pub = await client(rig.url, pubId);
    const conn = [...rig.adapter.listeners[0]!.handler.connections].find((c) => c.clientId === pubId)!;
    const n = 300;
    for (let i = 0; i < n; i++) pub.publish('ws/rate', Buffer.concat([Buffer.from(String(i).padStart(8, '0')), Buffer.alloc(1000)]), { qos: 0 });
    await eventually(() => conn.limiter!.paused, 'the publisher paused', 5000);
    expect(got.length).toBeLessThan(n);
    await eventually(() => got.length === n, `${n} messages`, 15_000);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => String(i).padStart(8, '0')));
  });
});
