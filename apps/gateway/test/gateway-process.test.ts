import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { tmpFile } from './helpers.js';
import { startGateway } from './run-gateway.js';


describe('the junction gateway process', () => {
  it('serves MQTT on its configured listener and shuts down cleanly on SIGTERM [MQTT-3.14 0x8B]', async () => {
    const gw = await startGateway('log: { format: json }\nlisteners: { tcp: { default: { bind: "127.0.0.1:0" } } }\nsys_topics: { sys_msg_interval: 0 }\n');
    const url = `mqtt://127.0.0.1:${gw.port}`;
    const sub = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'sub', reconnectPeriod: 0 });
    await sub.subscribeAsync('gw/#', { qos: 1 });
    const pub = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'pub', reconnectPeriod: 0 });
    const got = new Promise<string>((r) => sub.once('message', (_t, p) => r(p.toString())));
    await pub.publishAsync('gw/x', 'through the gateway', { qos: 1 });
    expect(await got).toBe('through the gateway');

    const disconnect = new Promise<number | undefined>((r) => sub.once('disconnect', (p) => r(p.reasonCode)));
    gw.child.kill('SIGTERM');
    expect(await disconnect).toBe(0x8b);
    expect(await gw.exit).toBe(0);
    expect(gw.lines.map((l) => l.msg)).toContain('gateway_stopped');
    sub.end(true);
    pub.end(true);
  });

  it('takes a listener address from the environment', async () => {
    const gw = await startGateway('log: { format: json }\nlisteners: { tcp: { default: { bind: "127.0.0.1:1" } } }\n', {
      JUNCTION__LISTENERS__TCP__DEFAULT__BIND: '127.0.0.1:0',
    });
    expect(gw.port).toBeGreaterThan(1);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.port}`, { reconnectPeriod: 0 });
    expect(c.connected).toBe(true);
    c.end(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  });

  it('refuses to start on a bad key and names it', async () => {
    await expect(startGateway('listeners: { tcp: { default: { bnid: "127.0.0.1:0" } } }\n')).rejects.toThrow(/listeners\.tcp\.default\.bnid/);
  });
});

describe('the gateway with authentication configured', () => {
  it('checks passwords against built-in users and applies the ACL file', async () => {
    const users = tmpFile('user_id,password,is_superuser\nalice,wonderland,false\n', 'users.csv');
    const acl = tmpFile('{allow, {username, "alice"}, all, ["alice/#"]}.\n{deny, all}.\n', 'acl.conf');
    const gw = await startGateway(
      [
        'log: { format: json }',
        'listeners: { tcp: { default: { bind: "127.0.0.1:0" } } }',
        'authentication:',
        `  - { mechanism: password_based, backend: built_in_database, bootstrap_file: "${users}", password_hash_algorithm: { name: sha256, salt_position: prefix } }`,
        'authorization:',
        '  no_match: deny',
        `  sources: [ { type: file, path: "${acl}" } ]`,
        '',
      ].join('\n'),
    );
    const url = `mqtt://127.0.0.1:${gw.port}`;
    const refused = await mqtt.connectAsync(url, { protocolVersion: 5, username: 'alice', password: 'wrong', reconnectPeriod: 0 }).catch((e: { code?: number }) => e);
    expect((refused as { code?: number }).code).toBe(0x86);
    const alice = await mqtt.connectAsync(url, { protocolVersion: 5, username: 'alice', password: 'wonderland', reconnectPeriod: 0 });
    expect((await alice.subscribeAsync('alice/in', { qos: 1 })).map((g) => g.qos)).toEqual([1]);
    await expect(alice.subscribeAsync('bob/in', { qos: 1 })).rejects.toThrow(/Not authorized/);
    alice.end(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  });
});

describe('the gateway with rules configured', () => {
  it('runs a rule from the config file: republishes an alert built from the payload', async () => {
    const gw = await startGateway(
      [
        'log: { format: json }',
        'listeners: { tcp: { default: { bind: "127.0.0.1:0" } } }',
        'rule_engine:',
        '  rules:',
        '    hot:',
        '      sql: \'SELECT payload.temp as t, clientid FROM "sensors/#" WHERE payload.temp > 30\'',
        '      actions: [ { function: republish, args: { topic: "alerts/${clientid}", payload: "${t}" } } ]',
        '',
      ].join('\n'),
    );
    const url = `mqtt://127.0.0.1:${gw.port}`;
    const watcher = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    await watcher.subscribeAsync('alerts/#', { qos: 1 });
    const got = new Promise<[string, string]>((r) => watcher.once('message', (t, p) => r([t, p.toString()])));
    const sensor = await mqtt.connectAsync(url, { clientId: 'sensor-1', reconnectPeriod: 0 });
    await sensor.publishAsync('sensors/room', JSON.stringify({ temp: 20 }), { qos: 1 });
    await sensor.publishAsync('sensors/room', JSON.stringify({ temp: 35 }), { qos: 1 });
    expect(await got).toEqual(['alerts/sensor-1', '35']);
    watcher.end(true);
    sensor.end(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  });
});

describe('the gateway with its dashboard API', () => {
  it('starts the REST API on loopback with a one-time admin password, and kicks a client through it', async () => {
    const gw = await startGateway('log: { format: json }\nlisteners: { tcp: { default: { bind: "127.0.0.1:0" } } }\ndashboard: { listeners: { http: { bind: "127.0.0.1:0" } } }\n');
    const created = gw.lines.find((l) => l.msg === 'admin_password_created') as { initial_password?: string } | undefined;
    expect(created?.initial_password).toMatch(/.{12,}/);
    const api = (gw.lines.find((l) => l.msg === 'gateway_started')!.listeners as { name: string; port: number }[]).find((l) => l.name === 'dashboard')!;
    const base = `http://127.0.0.1:${api.port}/api/v5`;
    expect((await fetch(`${base}/clients`)).status).toBe(401);
    const login = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: created!.initial_password }) });
    const { token } = (await login.json()) as { token: string };
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.port}`, { protocolVersion: 5, clientId: 'kick-me', reconnectPeriod: 0 });
    const gone = new Promise<number | undefined>((r) => client.once('disconnect', (p) => r(p.reasonCode)));
    const kick = await fetch(`${base}/clients/kick-me`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(kick.status).toBe(204);
    expect(await gone).toBe(0x98);
    client.end(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  });
});

describe('the gateway with a connector', () => {
  it('a rule sends matching messages to an HTTP endpoint through the configured sink', async () => {
    const { createServer } = await import('node:http');
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${body}`);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const gw = await startGateway(
        [
          'log: { format: json }',
          'listeners: { tcp: { default: { bind: "127.0.0.1:0" } } }',
          `connectors: { http: { hook: { url: "http://127.0.0.1:${port}" } } }`,
          'actions: { http: { alert: { connector: hook, parameters: { path: "/alerts/${clientid}" } } } }',
          'rule_engine:',
          '  rules:',
          '    to_http:',
          '      sql: \'SELECT payload.temp as t, clientid FROM "sensors/#"\'',
          '      actions: [ "http:alert" ]',
          '',
        ].join('\n'),
      );
      const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.port}`, { clientId: 'probe-7', reconnectPeriod: 0 });
      await sensor.publishAsync('sensors/x', JSON.stringify({ temp: 21.5 }), { qos: 1 });
      const deadline = Date.now() + 5000;
      while (bodies.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(bodies).toHaveLength(1);
      expect(bodies[0]!.startsWith('POST /alerts/probe-7 ')).toBe(true);
      expect(JSON.parse(bodies[0]!.slice('POST /alerts/probe-7 '.length))).toEqual({ t: 21.5, clientid: 'probe-7' });
      sensor.end(true);
      gw.child.kill('SIGTERM');
      expect(await gw.exit).toBe(0);
    } finally {
      server.close();
    }
  });
});
