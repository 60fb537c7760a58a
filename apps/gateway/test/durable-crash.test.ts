import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { flood } from './flood.js';
import { startGateway, type Running } from './run-gateway.js';

const CONFIG = 'log: { format: json }\nlisteners: { tcp: { default: { bind: "127.0.0.1:0" } } }\nsys_topics: { sys_msg_interval: 0, sys_heartbeat_interval: 0 }\nmqtt: { max_mqueue_len: 1000000 }\n';
const started = (gw: Running) => `mqtt://127.0.0.1:${gw.port}`;

describe('durable sessions survive kill -9 (embedded LMDB store under node.data_dir)', () => {
  it.each([1, 2] as const)('every acknowledged QoS %s message reaches the persistent subscriber after each crash', async (qos) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'junction-crash-'));
    let gw = await startGateway(CONFIG, {}, { dataDir });
    // The persistent subscriber, then offline while the load runs.
    const sub = await mqtt.connectAsync(started(gw), { protocolVersion: 5, clientId: 'durable-sub', clean: false, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0 });
    await sub.subscribeAsync('load/#', { qos });
    await sub.endAsync();
    const retained = await mqtt.connectAsync(started(gw), { protocolVersion: 5, reconnectPeriod: 0 });
    await retained.publishAsync('state/door', 'open', { qos: 1, retain: true });
    await retained.endAsync();

    const acked = new Set<number>();
    for (let round = 0; round < 3; round++) {
      const load = flood(started(gw), { clientId: `pub-${round}`, topic: 'load/x', qos, firstId: round * 1_000_000, onAck: (n) => acked.add(n) });
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 500)));
      gw.child.kill('SIGKILL');
      await gw.exit;
      load.stop();
      gw = await startGateway(CONFIG, {}, { dataDir });
    }
    expect(acked.size).toBeGreaterThan(0);

    // The subscriber comes back: its session is there, with every acknowledged message.
    const received = new Map<number, number>();
    const back = mqtt.connect(started(gw), { protocolVersion: 5, clientId: 'durable-sub', clean: false, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0 });
    back.on('message', (_t, p) => {
      const id = Number(p.toString());
      received.set(id, (received.get(id) ?? 0) + 1);
    });
    const present = await new Promise<boolean>((r) => back.once('connect', (ack) => r(ack.sessionPresent)));
    expect(present).toBe(true);
    const deadline = Date.now() + 15_000;
    while ([...acked].some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const missing = [...acked].filter((id) => !received.has(id));
    expect(missing).toEqual([]);
    if (qos === 2) expect([...received.values()].filter((c) => c > 1)).toEqual([]);
    back.end(true);

    // Retained messages are intact too.
    const late = await mqtt.connectAsync(started(gw), { protocolVersion: 5, reconnectPeriod: 0 });
    const door = new Promise<string>((r) => late.once('message', (_t, p) => r(p.toString())));
    await late.subscribeAsync('state/#', { qos: 1 });
    expect(await door).toBe('open');
    late.end(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  }, 90_000);
});
