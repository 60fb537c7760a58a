/**
 * Banned clients, built-in users and rules are cluster-wide: two nodes over a 3-server NATS
 * cluster, each with `installAuth` and `installRules` persisting in the node's
 * `ClusterRecordStore`; a change made through one node's handle acts on the other node's MQTT
 * clients, and a restarted node loads the records again.
 */
import { installAuth, type AuthHandle } from '@junction/auth';
import { silentLogger } from '@junction/broker-core';
import { installRules, type RulesHandle } from '@junction/rules';
import { eventually, startNatsCluster, type NatsCluster } from '@junction/test-servers';
import mqtt, { type IDisconnectPacket } from 'mqtt';
import { connect, KvWatchInclude } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordKey } from '../src/index.js';
import { client, endClients, inbox, startNode, untilRouted, type TestNode } from './helpers.js';

interface PluggedNode {
  node: TestNode;
  auth: AuthHandle;
  rules: RulesHandle;
  stop(): Promise<void>;
}

const authConfig = {
  authentication: [{ mechanism: 'password_based', backend: 'built_in_database' }],
  authorization: { no_match: 'allow', sources: [{ type: 'built_in_database' }] },
};
/** A user every test client logs in with (added on A in `beforeAll`, so it is on B too). */
const dev = { username: 'dev', password: 'dev-pw' };

async function startPlugged(name: string, servers: string[]): Promise<PluggedNode> {
  const node = await startNode(name, servers, { cluster: { randomize_servers: false } });
  const auth = await installAuth(node.broker, authConfig, silentLogger, { records: node.cluster.records });
  const rules = installRules(node.broker, {}, silentLogger);
  await rules.persist(node.cluster.records);
  return {
    node,
    auth,
    rules,
    stop: async () => {
      rules.stop();
      await node.stop();
      await auth.stop();
    },
  };
}

let nats: NatsCluster;
let A: PluggedNode;
let B: PluggedNode;

beforeAll(async () => {
  nats = await startNatsCluster(3);
  const [u1, u2, u3] = nats.urls as [string, string, string];
  A = await startPlugged('rec-a', [u1, u2, u3]);
  B = await startPlugged('rec-b', [u2, u3, u1]);
  await A.auth.users.add({ user_id: dev.username, password: dev.password });
  await eventually(() => B.auth.users.lookup(dev.username) !== undefined, 5000, 'the user on B');
}, 60_000);

afterEach(endClients);

afterAll(async () => {
  await Promise.allSettled([A?.stop(), B?.stop()]);
  await nats?.stop();
});

const refused = (url: string, opts: mqtt.IClientOptions) =>
  mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...dev, ...opts }).then(
    async (c) => {
      await c.endAsync(true);
      return undefined;
    },
    (err: { code?: number }) => err.code,
  );

/** The PUBACK reason code of a QoS 1 publish (mqtt.js rejects on an error code). */
const pubCode = (c: mqtt.MqttClient, topic: string) =>
  c.publishAsync(topic, 'x', { qos: 1 }).then(
    (p) => p?.reasonCode ?? 0,
    (err: { code?: number }) => err.code,
  );

describe('records shared by the nodes of a cluster', () => {
  it("a ban created on node A kicks the client on node B and refuses it there; deleting it lets it back", async () => {
    const victim = await client(B.node.url, { clientId: 'ban-me', ...dev });
    const gone = new Promise<IDisconnectPacket>((resolve) => victim.once('disconnect', resolve));
    A.auth.banned.create({ as: 'clientid', who: 'ban-me', reason: 'test' });
    // Kicked as on the node that banned it: DISCONNECT 0x98 (administrative action)...
    expect((await gone).reasonCode).toBe(0x98);
    await eventually(() => B.auth.banned.lookup('clientid', 'ban-me') !== undefined, 5000, 'the ban on B');
    // ...and refused with CONNACK 0x8A (banned).
    expect(await refused(B.node.url, { clientId: 'ban-me', ...dev })).toBe(0x8a);

    // A regex ban and a CIDR ban travel too; deleting the first one on B frees the client on A.
    A.auth.banned.create({ as: 'clientid_re', who: '^evil-', reason: 'pattern' });
    A.auth.banned.create({ as: 'peerhost_net', who: '10.0.0.0/8' });
    await eventually(() => B.auth.banned.list().length === 3, 5000, 'three bans on B');
    expect(B.auth.banned.delete('clientid', 'ban-me')).toBe(true);
    await eventually(() => A.auth.banned.lookup('clientid', 'ban-me') === undefined, 5000, 'the delete on A');
    expect(A.auth.banned.list().map((b) => b.as).sort()).toEqual(['clientid_re', 'peerhost_net']);
    const back = await client(B.node.url, { clientId: 'ban-me', ...dev });
    expect(back.connected).toBe(true);
    expect(await refused(A.node.url, { clientId: 'evil-1' })).toBe(0x8a);
    // Remove the remaining bans from A (clear): both nodes end with none.
    A.auth.banned.clear();
    await eventually(() => B.auth.banned.list().length === 0, 5000, 'no bans on B');
  });

  it('a user added on A logs in on B; a changed password and a deleted user follow', async () => {
    await A.auth.users.add({ user_id: 'alice', password: 's3cret' });
    await eventually(() => B.auth.users.lookup('alice') !== undefined, 5000, 'alice on B');
    const c = await client(B.node.url, { clientId: 'alice-1', username: 'alice', password: 's3cret' });
    expect(c.connected).toBe(true);
    expect(await refused(B.node.url, { clientId: 'alice-2', username: 'alice', password: 'wrong' })).toBe(0x86);

    await B.auth.users.update('alice', { password: 'n3w' });
    await eventually(async () => (await refused(A.node.url, { clientId: 'alice-3', username: 'alice', password: 'n3w' })) === undefined, 5000, 'the new password on A');

    A.auth.users.delete('alice');
    await eventually(() => B.auth.users.lookup('alice') === undefined, 5000, 'alice gone from B');
    expect(await refused(B.node.url, { clientId: 'alice-4', username: 'alice', password: 'n3w' })).toBeGreaterThan(0x80);
  });

  it('a rule created on A fires on B; disabling and deleting it on A follow', async () => {
    A.rules.create('to_alerts', {
      sql: 'SELECT payload.t as t, clientid FROM "rec/sensors/#" WHERE payload.t > 30',
      actions: [{ function: 'republish', args: { topic: 'rec/alerts/${clientid}', qos: 1 } }],
    });
    await eventually(() => B.rules.get('to_alerts') !== undefined, 5000, 'the rule on B');
    const sub = await client(B.node.url, { clientId: 'rec-alerts', ...dev });
    await sub.subscribeAsync('rec/alerts/#', { qos: 1 });
    const got = inbox(sub);
    const device = await client(B.node.url, { clientId: 'dev-b', ...dev });
    await device.publishAsync('rec/sensors/1', JSON.stringify({ t: 35 }), { qos: 1 });
    await eventually(() => got.length === 1, 5000, 'the alert');
    expect(got).toEqual(['rec/alerts/dev-b {"t":35,"clientid":"dev-b"}']);
    expect(B.rules.metrics('to_alerts')).toMatchObject({ passed: 1 });

    A.rules.disable('to_alerts');
    await eventually(() => B.rules.get('to_alerts')?.enable === false, 5000, 'disabled on B');
    A.rules.remove('to_alerts');
    await eventually(() => B.rules.get('to_alerts') === undefined, 5000, 'removed from B');
    await device.publishAsync('rec/sensors/1', JSON.stringify({ t: 40 }), { qos: 1 });
    await untilRouted(device, 'rec/alerts/probe', [sub]);
    expect(got).toHaveLength(1);
  });

  it('built-in authorization rules set on B apply on A, cached verdicts included; deleting them follows', async () => {
    const c = await client(A.node.url, { clientId: 'acl-a', ...dev });
    // A first verdict, cached on A: allowed (no rule yet).
    expect(await pubCode(c, 'rec/acl/x')).toBe(0);
    B.auth.rules.set({ username: dev.username }, [{ permission: 'deny', action: 'publish', topic: 'rec/acl/#' }]);
    await eventually(() => A.auth.rules.get({ username: dev.username }) !== undefined, 5000, 'the rules on A');
    // 0x87: not authorized (the cached "allow" was forgotten with the change).
    expect(await pubCode(c, 'rec/acl/x')).toBe(0x87);
    B.auth.rules.delete({ username: dev.username });
    await eventually(() => A.auth.rules.get({ username: dev.username }) === undefined, 5000, 'the rules gone from A');
    expect(await pubCode(c, 'rec/acl/x')).toBe(0);
  });

  it('applies changes from other nodes without writing them back (no echo)', async () => {
    const nc = await connect({ servers: nats.urls });
    try {
      // Every write to the records bucket from now on, as seen by an outside watcher.
      const kv = await nc.jetstream().views.kv('junction_records', { bindOnly: true });
      const watched = new Set([recordKey('auth.banned', 'username\u0000echo-test'), recordKey('auth.users', 'echo-user'), recordKey('rules', 'echo_rule')]);
      const writes: string[] = [];
      const watch = await kv.watch({ key: '>', include: KvWatchInclude.UpdatesOnly });
      void (async () => {
        for await (const e of watch) if (watched.has(e.key)) writes.push(`${e.operation} ${e.key.split('.')[0]}`);
      })();
      A.auth.banned.create({ as: 'username', who: 'echo-test' });
      await A.auth.users.add({ user_id: 'echo-user', password: 'pw' });
      A.rules.create('echo_rule', { sql: 'SELECT * FROM "rec/echo"', actions: [] });
      await eventually(
        () => B.auth.banned.lookup('username', 'echo-test') !== undefined && B.auth.users.lookup('echo-user') !== undefined && B.rules.get('echo_rule') !== undefined,
        5000,
        'the records on B',
      );
      A.auth.banned.delete('username', 'echo-test');
      A.auth.users.delete('echo-user');
      A.rules.remove('echo_rule');
      await eventually(() => B.rules.get('echo_rule') === undefined && B.auth.users.lookup('echo-user') === undefined && B.auth.banned.list().length === 0, 5000, 'the deletes on B');
      await new Promise((r) => setTimeout(r, 300));
      watch.stop();
      // One write per change, all from A: B applied them without writing them back.
      expect(writes.sort()).toEqual(['DEL auth/banned', 'DEL auth/users', 'DEL rules', 'PUT auth/banned', 'PUT auth/users', 'PUT rules']);
    } finally {
      await nc.close();
    }
  });

  it('a restarted node loads the bans, users and rules of the cluster', async () => {
    A.auth.banned.create({ as: 'username', who: 'mallory' });
    await A.auth.users.add({ user_id: 'bob', password: 'pw' });
    A.rules.create('kept', { sql: 'SELECT * FROM "rec/kept"', actions: [] });
    A.auth.rules.set({ clientid: 'acl-kept' }, [{ permission: 'deny', action: 'subscribe', topic: '#' }]);
    await eventually(() => B.rules.get('kept') !== undefined && B.auth.users.lookup('bob') !== undefined, 5000, 'the records on B');
    await B.stop();
    // While B is down, A changes things: B must see them when it is back.
    A.auth.banned.create({ as: 'clientid', who: 'while-down' });
    A.rules.remove('kept');
    await eventually(async () => (await A.node.cluster.records.get('rules', 'kept')) === undefined, 5000, 'the rule removed from the KV');
    B = await startPlugged('rec-b', [nats.urls[1]!, nats.urls[2]!, nats.urls[0]!]);
    expect(B.auth.banned.lookup('username', 'mallory')).toBeDefined();
    expect(B.auth.banned.lookup('clientid', 'while-down')).toBeDefined();
    expect(B.auth.users.lookup('bob')).toEqual({ user_id: 'bob', is_superuser: false });
    expect(B.rules.get('kept')).toBeUndefined();
    expect(B.auth.rules.get({ clientid: 'acl-kept' })).toEqual([{ permission: 'deny', action: 'subscribe', topic: '#' }]);
    const bob = await client(B.node.url, { clientId: 'bob-1', username: 'bob', password: 'pw' });
    expect(bob.connected).toBe(true);
  });
});
