/**
 * Browser proof: a page with MQTT.js bundled for the browser by esbuild, served on loopback and
 * loaded in headless Debian Chromium (playwright-core, never a downloaded browser), talks MQTT
 * over the ws listener to a Node MQTT.js client on the TCP listener of the same broker. The page
 * receives what Node published and publishes an answer that Node receives; both sides assert.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrokerCore, createAdapterContext, type Adapter, type ConnectInfo } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import { build } from 'esbuild';
import mqtt from 'mqtt';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWebsocketOptions, wsListenersFactory } from '../src/index.js';

/** Debian's Chromium (`.ci/run` installs the `chromium` package when it is missing). */
const CHROMIUM = process.env.JUNCTION_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

interface PageState {
  events: string[];
  subscribed: boolean;
  received: { topic: string; text: string; qos: number }[];
  protocol?: string;
  error?: string;
}

describe.skipIf(!existsSync(CHROMIUM))(`MQTT over WebSocket in headless Chromium (${CHROMIUM})`, () => {
  let broker: BrokerCore;
  let tcp: Adapter;
  let ws: Adapter;
  let web: Server;
  let tcpPort: number;
  let wsPort: number;
  let pageOrigin: string;
  let bundle: string;
  let page: { html: string } = { html: '' };
  let profile: string;
  let browser: BrowserContext | undefined;

  beforeAll(async () => {
    // MQTT.js and the page script, bundled as a web app would bundle them (the browser build
    // MQTT.js publishes through its package exports, no Node built-ins).
    const out = await build({
      entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'browser', 'page.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    bundle = out.outputFiles[0]!.text;

    // The page server first: its origin is the one the ws listener allows.
    web = createServer((req, res) => {
      if (req.url === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        res.end(bundle);
      } else if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(page.html);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    pageOrigin = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;

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
        websocket: { ...defaultWebsocketOptions, check_origin_enable: true, allow_origin_absence: false, check_origins: [pageOrigin] },
      },
    });
    tcpPort = (await tcp.start())[0]!.port;
    wsPort = (await ws.start())[0]!.port;

    profile = mkdtempSync(join(tmpdir(), 'junction-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await ws?.stop({ drainMs: 200 });
    await tcp?.stop({ drainMs: 200 });
    await broker?.close();
    await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
  });

  it('a browser page subscribes over ws, receives what a Node client published over TCP, and answers', async () => {
    const down = topicFor('to-browser');
    const up = topicFor('from-browser');
    const browserId = uid('web');
    const connected = new Promise<ConnectInfo>((resolve) => {
      const off = broker.hooks.on('client.connected', (client, info) => {
        if (client.clientId !== browserId) return;
        off();
        resolve(info);
      });
    });
    const config = { url: `ws://127.0.0.1:${wsPort}/mqtt`, clientId: browserId, down, up };
    page.html = `<!doctype html><meta charset="utf-8"><title>Junction browser test</title>
<script id="config" type="application/json">${JSON.stringify(config)}</script>
<script type="module" src="/app.js"></script>`;

    // The Node side: MQTT.js over TCP, listening for the browser's answer.
    const nodeId = uid('node');
    const node = new TestClient(mqtt.connect(`mqtt://127.0.0.1:${tcpPort}`, { clientId: nodeId, protocolVersion: 5, reconnectPeriod: 0 }), nodeId);
    await node.connected;
    await node.client.subscribeAsync(up, { qos: 1 });

    const tab = await browser!.newPage();
    const consoleErrors: string[] = [];
    tab.on('pageerror', (err) => consoleErrors.push(err.message));
    await tab.goto(`${pageOrigin}/`);
    await tab.waitForFunction(() => (window as unknown as { junctionTest?: PageState }).junctionTest?.subscribed === true, undefined, { timeout: 10_000 });

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

    // And the page recorded exactly what it received.
    const state = await tab.evaluate(() => (window as unknown as { junctionTest: PageState }).junctionTest);
    expect(state.error).toBeUndefined();
    expect(state.protocol).toBe('mqtt');
    expect(state.received).toEqual([{ topic: down, text: 'hello from node over tcp', qos: 1 }]);
    expect(state.events).toEqual(['connect', 'subscribed', `message ${down}`, 'published']);
    expect(consoleErrors).toEqual([]);

    await tab.close();
    await node.client.endAsync();
  });

  it('a page whose origin is not allowed cannot connect (Origin checked against check_origins)', async () => {
    // Same page and bundle, served from another origin: localhost instead of 127.0.0.1.
    const config = { url: `ws://127.0.0.1:${wsPort}/mqtt`, clientId: uid('evil'), down: topicFor('x'), up: topicFor('y') };
    page.html = `<!doctype html><meta charset="utf-8"><script id="config" type="application/json">${JSON.stringify(config)}</script><script type="module" src="/app.js"></script>`;
    const refusedBefore = ws.stats().handshakes_refused!;
    const tab = await browser!.newPage();
    await tab.goto(`http://localhost:${(web.address() as AddressInfo).port}/`);
    await tab.waitForFunction(() => {
      const s = (window as unknown as { junctionTest?: PageState }).junctionTest;
      return s !== undefined && (s.events.includes('close') || s.error !== undefined);
    }, undefined, { timeout: 10_000 });
    const state = await tab.evaluate(() => (window as unknown as { junctionTest: PageState }).junctionTest);
    expect(state.events).not.toContain('connect');
    expect(state.subscribed).toBe(false);
    // Refused at the handshake (HTTP 403), by the origin check.
    expect(ws.stats().handshakes_refused).toBe(refusedBefore + 1);
    await tab.close();
  });
});
