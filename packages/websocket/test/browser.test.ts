/**
 * Browser proof: a page with MQTT.js bundled for the browser by esbuild, served on loopback and
 * loaded in headless Debian Chromium (playwright-core, never a downloaded browser), talks MQTT
 * over the ws listener to a Node MQTT.js client on the TCP listener of the same broker. The page
 * receives what Node published and publishes an answer that Node receives; both sides assert.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrokerCore, createAdapterContext, type Adapter } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import { CHROMIUM, hasChromium, nextConnect, startBrowserPage, waitForPage, type BrowserPage } from '@junction/test-servers/browser';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWebsocketOptions, wsListenersFactory } from '../src/index.js';

describe.skipIf(!hasChromium)(`MQTT over WebSocket in headless Chromium (${CHROMIUM})`, () => {
  let broker: BrokerCore;
  let tcp: Adapter;
  let ws: Adapter;
  let tcpPort: number;
  let wsPort: number;
  let web: BrowserPage | undefined;

  beforeAll(async () => {
    // MQTT.js and the page script, bundled as a web app would bundle them (the browser build
    // MQTT.js publishes through its package exports, no Node built-ins). The page server comes
    // first: its origin is the one the ws listener allows.
    web = await startBrowserPage({ entry: join(dirname(fileURLToPath(import.meta.url)), 'browser', 'page.ts'), chromiumArgs: ['--disable-quic'] });

    // One broker, two listeners: TCP for the Node client, ws for the browser.
    broker = new BrokerCore({ nodeName: 'browser-test@127.0.0.1' });
    const ctx = createAdapterContext(broker);
    tcp = tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '' } });
    ws = wsListenersFactory.create(ctx, {
      default: {
        enable: true,
        bind: { host: '127.0.0.1', port: 0 },
        max_connections: 100,
        mountpoint: '',
        // Only this page's origin may connect: the browser's Origin header is checked too.
        websocket: { ...defaultWebsocketOptions, check_origin_enable: true, allow_origin_absence: false, check_origins: [web.origin] },
      },
    });
    tcpPort = (await tcp.start())[0]!.port;
    wsPort = (await ws.start())[0]!.port;
  }, 60_000);

  afterAll(async () => {
    await web?.close();
    await ws?.stop({ drainMs: 200 });
    await tcp?.stop({ drainMs: 200 });
    await broker?.close();
  });

  it('a browser page subscribes over ws, receives what a Node client published over TCP, and answers', async () => {
    const down = topicFor('to-browser');
    const up = topicFor('from-browser');
    const browserId = uid('web');
    const connected = nextConnect(broker, browserId);
    web!.show({ url: `ws://127.0.0.1:${wsPort}/mqtt`, clientId: browserId, down, up });

    // The Node side: MQTT.js over TCP, listening for the browser's answer.
    const nodeId = uid('node');
    const node = new TestClient(mqtt.connect(`mqtt://127.0.0.1:${tcpPort}`, { clientId: nodeId, protocolVersion: 5, reconnectPeriod: 0 }), nodeId);
    await node.connected;
    await node.client.subscribeAsync(up, { qos: 1 });

    const { tab, pageErrors } = await web!.open();
    await waitForPage(tab, { subscribed: true });

    // The broker saw a WebSocket client of the ws listener.
    const info = await connected;
    expect(info.listener).toBe('ws:default');
    expect(info.protocolVersion).toBe(5);
    expect(info.peer).toMatch(/^127\.0\.0\.1:\d+$/);

    await node.client.publishAsync(down, 'hello from node over tcp', { qos: 1 });

    // The browser's answer reaches the Node client.
    const [answer] = await node.waitMessages(1, up, 10_000);
    expect(answer!.text).toBe('browser got: hello from node over tcp');
    expect(answer!.qos).toBe(1);

    // And the page recorded exactly what it received (`published` comes with the PUBACK, which
    // may arrive after the Node client got the answer).
    const state = await waitForPage(tab, { event: 'published', error: true });
    expect(state.error).toBeUndefined();
    expect(state.protocol).toBe('mqtt');
    expect(state.received).toEqual([{ topic: down, text: 'hello from node over tcp', qos: 1 }]);
    expect(state.events).toEqual(['connect', 'subscribed', `message ${down}`, 'published']);
    expect(pageErrors).toEqual([]);

    await tab.close();
    await node.client.endAsync();
  });

  it('a page whose origin is not allowed cannot connect (Origin checked against check_origins)', async () => {
    // Same page and bundle, served from another origin: localhost instead of 127.0.0.1.
    web!.show({ url: `ws://127.0.0.1:${wsPort}/mqtt`, clientId: uid('evil'), down: topicFor('x'), up: topicFor('y') });
    const refusedBefore = ws.stats().handshakes_refused!;
    const { tab } = await web!.open(`http://localhost:${web!.port}/`);
    const state = await waitForPage(tab, { event: 'close', error: true });
    expect(state.events).not.toContain('connect');
    expect(state.subscribed).toBe(false);
    // Refused at the handshake (HTTP 403), by the origin check.
    expect(ws.stats().handshakes_refused).toBe(refusedBefore + 1);
    await tab.close();
  });
});
