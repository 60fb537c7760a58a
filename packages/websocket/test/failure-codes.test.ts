/**
 * The refusals of @junction/auth as MQTT reason codes over WebSocket, with the real plugin
 * installed (built-in users, a banned client id, an acl.conf denying `secret/#`) and MQTT.js
 * connecting to ws://…/mqtt, in MQTT 5 and 3.1.1. The same codes as over TCP (packages/auth/test).
 */
import { installAuth, type AuthHandle } from '@junction/auth';
import type { BrokerHarness } from '@junction/mqtt/testing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsFixture } from '../src/testing/index.js';

const ACL = ['{deny, all, publish, ["secret/#"]}.', '{deny, all, subscribe, ["secret/#"]}.', '{allow, all}.'].join('\n');

let h: BrokerHarness;
let auth: AuthHandle;
const clients: MqttClient[] = [];
let seq = 0;

beforeAll(async () => {
  h = await wsFixture.start({ broker: { config: { allow_anonymous: false } } });
  auth = await installAuth(h.broker, {
    authentication: [{ mechanism: 'password_based', backend: 'built_in_database' }],
    authorization: { no_match: 'deny', sources: [{ type: 'file', rules: ACL }] },
  });
  await auth.users.add({ user_id: 'alice', password: 's3cret' });
  await auth.users.add({ user_id: 'watcher', password: 'pw', is_superuser: true });
  auth.banned.create({ as: 'clientid', who: 'ws-banned' });
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await auth?.stop();
  await h?.stop();
});

/** Connect; the CONNACK code (0 on success). */
function connect(opts: IClientOptions): Promise<{ client: MqttClient; code: number }> {
  const client = mqtt.connect(h.url, { reconnectPeriod: 0, connectTimeout: 5000, clientId: `ws-fc-${++seq}`, ...opts });
  clients.push(client);
  return new Promise((resolve) => {
    client.once('connect', (ack) => resolve({ client, code: ack.reasonCode ?? ack.returnCode ?? 0 }));
    client.once('error', (err: Error & { code?: number }) => resolve({ client, code: typeof err.code === 'number' ? err.code : -1 }));
  });
}

function suback(client: MqttClient, topic: string): Promise<number> {
  return new Promise((resolve) => {
    client.subscribe(topic, { qos: 1 }, (err, _granted, packet) => {
      // The SUBACK itself: MQTT.js reports the requested QoS in `granted`.
      const p = (packet ?? (err as (Error & { packet?: typeof packet }) | null)?.packet) as { granted?: (number | { qos: number })[] } | undefined;
      const g = p?.granted?.[0];
      resolve(typeof g === 'number' ? g : (g?.qos ?? -1));
    });
  });
}

function puback(client: MqttClient, topic: string): Promise<number> {
  return new Promise((resolve) => {
    client.publish(topic, 'x', { qos: 1 }, (err, packet) => {
      const e = err as (Error & { code?: number }) | undefined;
      if (e) return resolve(typeof e.code === 'number' ? e.code : -1);
      resolve((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

describe('MQTT over WebSocket: failure codes under @junction/auth', () => {
  it.each([
    ['right password', 5, { username: 'alice', password: 's3cret' }, 0],
    ['wrong password', 5, { username: 'alice', password: 'wrong' }, 0x86],
    ['no password', 5, { username: 'alice' }, 0x86],
    ['unknown user', 5, { username: 'mallory', password: 'x' }, 0x87],
    ['banned client id', 5, { clientId: 'ws-banned', username: 'alice', password: 's3cret' }, 0x8a],
    ['right password', 4, { username: 'alice', password: 's3cret' }, 0],
    ['wrong password', 4, { username: 'alice', password: 'wrong' }, 4],
    ['unknown user', 4, { username: 'mallory', password: 'x' }, 5],
    ['banned client id', 4, { clientId: 'ws-banned', username: 'alice', password: 's3cret' }, 5],
  ] as const)('CONNACK, %s, MQTT %i: %j', async (_what, protocolVersion, opts, code) => {
    expect((await connect({ protocolVersion, ...opts })).code).toBe(code);
  });

  it('ACL deny: MQTT 5 SUBACK 0x87 and PUBACK 0x87; MQTT 3.1.1 SUBACK 0x80 and a PUBACK for a dropped message', async () => {
    const watcher = (await connect({ protocolVersion: 5, username: 'watcher', password: 'pw' })).client;
    const seen: string[] = [];
    watcher.on('message', (t) => seen.push(t));
    await watcher.subscribeAsync('#', { qos: 1 });
    const v5 = (await connect({ protocolVersion: 5, username: 'alice', password: 's3cret' })).client;
    expect(await suback(v5, 'secret/#')).toBe(0x87);
    expect(await puback(v5, 'secret/a')).toBe(0x87);
    const v4 = (await connect({ protocolVersion: 4, username: 'alice', password: 's3cret' })).client;
    expect(await suback(v4, 'secret/#')).toBe(0x80);
    expect(await puback(v4, 'secret/b')).toBe(0);
    // Allowed traffic still flows; the denied publishes never reached anyone.
    expect(await puback(v5, 'open/a')).toBe(0);
    await new Promise<void>((resolve) => {
      const check = () => (seen.includes('open/a') ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(seen.filter((t) => t.startsWith('secret/'))).toEqual([]);
  });

  it('a new ban disconnects an MQTT 5 client with DISCONNECT 0x98', async () => {
    const { client } = await connect({ protocolVersion: 5, clientId: 'ws-to-ban', username: 'alice', password: 's3cret' });
    const code = new Promise<number | undefined>((resolve) => {
      let rc: number | undefined;
      client.on('disconnect', (p) => (rc = p.reasonCode));
      client.once('close', () => resolve(rc));
    });
    auth.banned.create({ as: 'clientid', who: 'ws-to-ban' });
    expect(await code).toBe(0x98);
  });
});
