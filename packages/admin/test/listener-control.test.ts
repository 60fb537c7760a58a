import { connect as netConnect } from 'node:net';
import { createAdapterContext, type Adapter } from '@junction/broker-core';
import { rmSync } from 'node:fs';
import { sslListenersFactory, tcpListenersFactory } from '@junction/mqtt';
import { testPki } from '@junction/mqtt/testing';
import { ocppGatewayFactory, resolveOcppConfig } from '@junction/ocpp';
import { defaultWebsocketOptions, wsListenersFactory } from '@junction/websocket';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AdminAdapterView } from '../src/index.js';
import { login, startAdmin, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
const owned: Adapter[] = [];
afterEach(async () => {
  await f?.stop();
  f = undefined;
  await Promise.all(owned.splice(0).map((a) => a.stop({ drainMs: 0 })));
});

afterAll(() => rmSync(testPki().dir, { recursive: true, force: true }));

/** Whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function portOf(bind: string): number {
  return Number(bind.slice(bind.lastIndexOf(':') + 1));
}

describe('listener control', () => {
  it('stops, starts and restarts one MQTT listener; its clients are disconnected; the others keep running; every call is audited', async () => {
    let views: AdminAdapterView[] = [];
    f = await startAdmin({ extra: () => ({ adapters: () => views }) });
    const ctx = createAdapterContext(f.harness.broker, { sections: { mqtt: {} } });
    const listener = (port = 0) => ({ enable: true, bind: { host: '127.0.0.1', port }, max_connections: 100, mountpoint: '' });
    const tcp = tcpListenersFactory.create(ctx, { a: listener(), b: listener() });
    owned.push(tcp);
    views = [{ type: 'listeners.tcp', listeners: await tcp.start(), stats: () => tcp.stats(), adapter: tcp }];

    const list = await f.api('GET', '/api/v5/listeners');
    expect(list.body.map((l: { id: string; running: boolean }) => [l.id, l.running])).toEqual([
      ['tcp:a', true],
      ['tcp:b', true],
    ]);
    const portA = portOf(list.body[0].bind);
    const portB = portOf(list.body[1].bind);

    const client = mqtt.connect(`mqtt://127.0.0.1:${portA}`, { clientId: 'on-a', protocolVersion: 5, reconnectPeriod: 0 });
    await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const disconnected = new Promise<number | undefined>((resolve) => client.once('disconnect', (p) => resolve(p.reasonCode)));
    // The stop drains: it answers once the client has gone (or after 5 s).
    const stopping = f.api('PUT', '/api/v5/listeners/tcp%3Aa/stop');
    expect(await disconnected).toBe(0x8b); // server shutting down
    client.end(true);
    const stopped = await stopping;
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ id: 'tcp:a', running: false, enable: false, current_connections: 0 });
    expect(await accepts(portA)).toBe(false);
    expect(await accepts(portB)).toBe(true);
    expect((await f.api('GET', '/api/v5/listeners/tcp:a')).body.running).toBe(false);
    // Stopping twice is harmless.
    expect((await f.api('PUT', '/api/v5/listeners/tcp:a/stop')).status).toBe(200);

    const started = await f.api('POST', '/api/v5/listeners/tcp:a/start');
    expect(started.status).toBe(200);
    expect(started.body.running).toBe(true);
    const again = portOf(started.body.bind);
    const back = mqtt.connect(`mqtt://127.0.0.1:${again}`, { clientId: 'back-on-a', protocolVersion: 5, reconnectPeriod: 0 });
    f.clients.push(back);
    await new Promise((resolve, reject) => back.once('connect', resolve).once('error', reject));
    expect((await f.api('GET', '/api/v5/listeners/tcp:a')).body.current_connections).toBe(1);

    const restarted = await f.api('PUT', '/api/v5/listeners/tcp:b/restart');
    expect(restarted.body).toMatchObject({ id: 'tcp:b', running: true });
    expect(await accepts(portOf(restarted.body.bind))).toBe(true);

    const unknown = await f.api('PUT', '/api/v5/listeners/tcp:nope/stop');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('BAD_LISTENER_ID');
    expect((await f.api('PUT', '/api/v5/listeners/tcp:a/explode')).status).toBe(400);
    expect((await fetch(`${f.base}/api/v5/listeners/tcp:a/stop`, { method: 'PUT' })).status).toBe(401);
    await f.api('POST', '/api/v5/users', { username: 'watcher', password: 'Watcher-pw-1', role: 'viewer' });
    const viewer = { authorization: `Bearer ${await login(f.base, 'watcher', 'Watcher-pw-1')}` };
    expect((await f.api('PUT', '/api/v5/listeners/tcp:a/stop', undefined, viewer)).status).toBe(403);
    expect((await f.api('GET', '/api/v5/listeners/tcp:a')).body.running).toBe(true);

    const audit = (await f.api('GET', '/api/v5/audit?operation_type=listeners')).body.data as { operation_id: string; http_request: { bindings: Record<string, string> }; operation_result: string; from: string; source: string }[];
    expect(audit.map((e) => `${e.http_request.bindings.id} ${e.http_request.bindings.action} ${e.operation_result}`)).toEqual([
      'tcp:a stop failure', // the viewer
      'tcp:a stop failure', // no credentials
      'tcp:a explode failure',
      'tcp:nope stop failure',
      'tcp:b restart success',
      'tcp:a start success',
      'tcp:a stop success',
      'tcp:a stop success',
    ]);
    expect(audit.at(-1)).toMatchObject({ operation_id: 'PUT /api/v5/listeners/:id/:action', from: 'dashboard', source: 'admin' });
    expect(f.log.events('admin_listener_stopped').map((e) => e.obj.listener)).toEqual(['tcp:a', 'tcp:a', 'tcp:b']);
  });

  it('restarts a WebSocket listener: MQTT over WebSocket works again after stop and start', async () => {
    let views: AdminAdapterView[] = [];
    f = await startAdmin({ extra: () => ({ adapters: () => views }) });
    const ctx = createAdapterContext(f.harness.broker, { sections: { mqtt: {} } });
    const ws = wsListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '', websocket: defaultWebsocketOptions } });
    owned.push(ws);
    views = [{ type: 'listeners.ws', listeners: await ws.start(), stats: () => ws.stats(), adapter: ws }];
    expect((await f.api('PUT', '/api/v5/listeners/ws:default/stop')).body.running).toBe(false);
    const started = await f.api('PUT', '/api/v5/listeners/ws:default/start');
    const client = mqtt.connect(`ws://127.0.0.1:${portOf(started.body.bind)}/mqtt`, { clientId: 'ws-again', protocolVersion: 5, reconnectPeriod: 0 });
    f.clients.push(client);
    await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
    expect((await f.api('GET', '/api/v5/listeners/ws:default')).body).toMatchObject({ running: true, current_connections: 1 });
  });

  it('restarts a mutual-TLS listener: client certificates are checked again after stop and start', async () => {
    let views: AdminAdapterView[] = [];
    f = await startAdmin({ extra: () => ({ adapters: () => views }) });
    const pki = testPki();
    const ctx = createAdapterContext(f.harness.broker, { sections: { mqtt: {} } });
    const ssl = sslListenersFactory.create(ctx, {
      default: {
        enable: true,
        bind: { host: '127.0.0.1', port: 0 },
        max_connections: 100,
        mountpoint: '',
        ssl_options: { certfile: pki.certFile, keyfile: pki.keyFile, cacertfile: pki.caFile, verify: 'verify_peer', fail_if_no_peer_cert: true, versions: ['tlsv1.3', 'tlsv1.2'] },
      },
    });
    owned.push(ssl);
    views = [{ type: 'listeners.ssl', listeners: await ssl.start(), stats: () => ssl.stats(), adapter: ssl }];
    const r = await f.api('PUT', '/api/v5/listeners/ssl:default/restart');
    expect(r.body.running).toBe(true);
    const client = mqtt.connect(`mqtts://127.0.0.1:${portOf(r.body.bind)}`, { clientId: 'tls-again', protocolVersion: 5, reconnectPeriod: 0, ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost' });
    f.clients.push(client);
    await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
    expect((await f.api('GET', '/api/v5/clients/tls-again')).body.listener).toBe('ssl:default');
  });

  it('answers 501 for an adapter that cannot stop single listeners', async () => {
    const views: AdminAdapterView[] = [{ type: 'listeners.quic', listeners: [{ type: 'quic', name: 'default', host: '127.0.0.1', port: 14567 }], stats: () => ({ connections: 0 }) }];
    f = await startAdmin({ extra: () => ({ adapters: () => views }) });
    const r = await f.api('PUT', '/api/v5/listeners/quic:default/stop');
    expect(r.status).toBe(501);
    expect(r.body.code).toBe('NOT_SUPPORTED');
  });
});

describe('gateway enable/disable', () => {
  it('disables a gateway (its listeners close) and enables it again from its config', async () => {
    let views: AdminAdapterView[] = [];
    f = await startAdmin({ extra: () => ({ adapters: () => views }) });
    const ctx = createAdapterContext(f.harness.broker, { sections: { mqtt: {} } });
    const config = resolveOcppConfig({ listeners: { ws: { default: { bind: { host: '127.0.0.1', port: 0 } } } } });
    const ocpp = ocppGatewayFactory.create(ctx, config);
    owned.push(ocpp);
    views = [{ type: 'gateway.ocpp', listeners: await ocpp.start(), stats: () => ocpp.stats(), adapter: ocpp, recreate: () => ocppGatewayFactory.create(ctx, config) }];
    const gw = async () => (await f!.api('GET', '/api/v5/gateways/ocpp')).body as { status: string; listeners: { bind: string; running: boolean }[] };
    const before = await gw();
    expect(before.status).toBe('running');
    const port = portOf(before.listeners[0]!.bind);
    expect((await fetch(`http://127.0.0.1:${port}/ocpp/CP-1`)).status).toBe(426);

    expect((await f.api('PUT', '/api/v5/gateways/ocpp/enable/false')).status).toBe(204);
    const off = await gw();
    expect(off.status).toBe('stopped');
    expect(off.listeners[0]!.running).toBe(false);
    expect(await accepts(port)).toBe(false);
    expect((await f.api('PUT', '/api/v5/gateways/ocpp/enable/false')).status).toBe(204);

    expect((await f.api('PUT', '/api/v5/gateways/ocpp/enable/true')).status).toBe(204);
    const on = await gw();
    expect(on.status).toBe('running');
    expect((await fetch(`http://127.0.0.1:${portOf(on.listeners[0]!.bind)}/ocpp/CP-1`)).status).toBe(426);

    expect((await f.api('PUT', '/api/v5/gateways/nope/enable/true')).status).toBe(404);
    expect((await f.api('PUT', '/api/v5/gateways/ocpp/enable/maybe')).status).toBe(400);
    const audit = (await f.api('GET', '/api/v5/audit?operation_type=gateways')).body.data as { operation_result: string }[];
    expect(audit).toHaveLength(5);
    // The rebuilt gateway belongs to the admin server, which stops it.
    const onPort = portOf(on.listeners[0]!.bind);
    await f.stop();
    f = undefined;
    expect(await accepts(onPort)).toBe(false);
  });
});
