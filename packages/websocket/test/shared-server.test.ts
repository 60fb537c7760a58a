/**
 * One HTTP server shared by MQTT over WebSocket (on /mqtt, through the exported upgrade handler)
 * and another WebSocket endpoint on another path, as OCPP and the admin API will share one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { MqttWebSocketHandler } from '../src/index.js';
import { eventually, FrameClient, handshake, httpGet } from './ws-client.js';

describe('one HTTP server, MQTT on /mqtt and another WebSocket service on /echo', () => {
  let broker: BrokerCore;
  let handler: MqttWebSocketHandler;
  let server: Server;
  let echo: WebSocketServer;
  let base: string;

  beforeAll(async () => {
    broker = new BrokerCore({ config: { allow_anonymous: true } });
    handler = new MqttWebSocketHandler(createAdapterContext(broker), { listener: 'ws:shared', max_connections: 3 });
    echo = new WebSocketServer({ noServer: true });
    echo.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo: ${data.toString()}`)));
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('plain HTTP still served\n');
    });
    server.on('upgrade', (req, socket, head) => {
      if (handler.handleUpgrade(req, socket, head)) return;
      if (req.url === '/echo') {
        echo.handleUpgrade(req, socket, head, (ws) => echo.emit('connection', ws, req));
        return;
      }
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await handler.close(200);
    echo.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await broker.close();
  });

  it('serves MQTT (MQTT.js over ws), the echo service and plain HTTP side by side', async () => {
    const id = uid('sh');
    const sub = new TestClient(mqtt.connect(`ws://${base}/mqtt`, { clientId: id, reconnectPeriod: 0 }), id);
    await sub.connected;
    const t = topicFor('shared');
    await sub.client.subscribeAsync(t, { qos: 1 });

    const r = await handshake(`ws://${base}/echo`, undefined);
    if (!r.ok) throw new Error(`echo refused: ${r.status}`);
    const reply = new Promise<string>((resolve) => r.ws.once('message', (d: Buffer) => resolve(d.toString())));
    r.ws.send('hello');
    expect(await reply).toBe('echo: hello');

    // The broker sees the WebSocket client under the handler's listener name.
    broker.publish({ topic: t, payload: Buffer.from('via the shared server'), qos: 1, retain: false });
    const [m] = await sub.waitMessages(1, t);
    expect(m!.text).toBe('via the shared server');
    expect(handler.connections.size).toBe(1);

    // The echo socket is not an MQTT connection, and stays open while MQTT traffic flows.
    expect(r.ws.readyState).toBe(WebSocket.OPEN);
    expect((await httpGet(`http://${base}/`)).body).toBe('plain HTTP still served\n');
    expect(await handshake(`ws://${base}/nowhere`, ['mqtt'])).toEqual({ ok: false, status: 404 });
    r.ws.close();
    await sub.client.endAsync();
  });

  it('applies max_connections itself (HTTP 503) when it does not own the server', async () => {
    const opened: WebSocket[] = [];
    // The previous test's MQTT connection must be gone from the count first.
    await eventually(() => handler.socketCount === 0, 'no open MQTT WebSocket');
    try {
      for (let i = 0; i < 3; i++) {
        const r = await handshake(`ws://${base}/mqtt`, ['mqtt']);
        if (!r.ok) throw new Error(`refused: ${r.status}`);
        opened.push(r.ws);
      }
      expect(await handshake(`ws://${base}/mqtt`, ['mqtt'])).toEqual({ ok: false, status: 503 });
      expect(handler.stats().handshakes_refused).toBeGreaterThanOrEqual(1);
      // The echo service is not limited by the MQTT endpoint's count.
      const e = await handshake(`ws://${base}/echo`, undefined);
      expect(e.ok).toBe(true);
      if (e.ok) e.ws.close();
      // One admitted socket still speaks MQTT.
      const c = new FrameClient(opened[0]!);
      expect(await c.connect(uid('max'))).toMatchObject({ cmd: 'connack', returnCode: 0 });
    } finally {
      for (const ws of opened) ws.terminate();
    }
  });
});
