/**
 * Browser proof: headless Debian Chromium (playwright-core, never a downloaded browser) runs
 * MQTT.js, bundled by esbuild, over its native WebTransport (HTTP/3 over QUIC) to the
 * webtransport listener, and exchanges messages with a Node MQTT.js client on the TCP listener
 * of the same broker. Chromium trusts the listener's short-lived ECDSA certificate through
 * `serverCertificateHashes`; QUIC stays enabled and every name but 127.0.0.1 fails to resolve.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectInfo } from '@junction/broker-core';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import { build } from 'esbuild';
import mqtt from 'mqtt';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWtBroker, type WtBroker } from './wt-helpers.js';

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
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

interface PageState {
  events: string[];
  subscribed: boolean;
  received: { topic: string; text: string; qos: number }[];
  error?: string;
}

describe.skipIf(!existsSync(CHROMIUM))(`MQTT over WebTransport in headless Chromium (${CHROMIUM})`, () => {
  let b: WtBroker;
  let web: Server;
  let pageOrigin: string;
  let bundle: string;
  const page = { html: '' };
  let profile: string;
  let browser: BrowserContext | undefined;

  beforeAll(async () => {
    const out = await build({
      entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'browser-wt', 'page.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      // readable-stream reads `process` and `global` as Node would.
      define: { global: 'globalThis' },
      inject: [],
      banner: { js: 'globalThis.process ??= { env: {}, nextTick: (fn, ...a) => queueMicrotask(() => fn(...a)), version: "", browser: true };' },
    });
    bundle = out.outputFiles[0]!.text;
    web = createServer((req, res) => {
      if (req.url === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        res.end(bundle);
      } else if (req.url === '/' || req.url === '/blank') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(req.url === '/' ? page.html : '<!doctype html><title>blank</title>');
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    pageOrigin = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    b = await startWtBroker({ broker: { config: { allow_anonymous: true } } });
    profile = mkdtempSync(join(tmpdir(), 'junction-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await b?.stop();
    await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
  });

  it('a page runs MQTT.js over a native WebTransport stream and exchanges messages with a TCP client', async () => {
    const down = topicFor('to-browser');
    const up = topicFor('from-browser');
    const browserId = uid('web');
    const connected = new Promise<ConnectInfo>((resolve) => {
      const off = b.broker.hooks.on('client.connected', (client, info) => {
        if (client.clientId !== browserId) return;
        off();
        resolve(info);
      });
    });
    const config = { url: `https://127.0.0.1:${b.h3Port}/mqtt`, hash: [...b.cert.hash], clientId: browserId, down, up };
    page.html = `<!doctype html><meta charset="utf-8"><title>Junction WebTransport test</title>
<script id="config" type="application/json">${JSON.stringify(config)}</script>
<script type="module" src="/app.js"></script>`;

    const nodeId = uid('node');
    const node = new TestClient(mqtt.connect(`mqtt://127.0.0.1:${b.tcpPort}`, { clientId: nodeId, protocolVersion: 5, reconnectPeriod: 0 }), nodeId);
    await node.connected;
    await node.client.subscribeAsync(up, { qos: 1 });

    const tab = await browser!.newPage();
    const pageErrors: string[] = [];
    tab.on('pageerror', (err) => pageErrors.push(err.message));
    await tab.goto(`${pageOrigin}/`);
    await tab.waitForFunction(
      () => {
        const s = (window as unknown as { junctionTest?: PageState }).junctionTest;
        return s?.subscribed === true || s?.error !== undefined;
      },
      undefined,
      { timeout: 15_000 },
    );
    const early = await tab.evaluate(() => (window as unknown as { junctionTest: PageState }).junctionTest);
    expect(early.error).toBeUndefined();

    // The broker saw an MQTT 5 client of the WebTransport listener, from loopback.
    const info = await connected;
    expect(info.listener).toBe('wt:default');
    expect(info.protocolVersion).toBe(5);
    expect(info.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(b.wt.stats()).toMatchObject({ quic_connections: 1, sessions: 1, connections: 1 });

    await node.client.publishAsync(down, 'hello from node over tcp', { qos: 1 });
    const [answer] = await node.waitMessages(1, up, 10_000);
    expect(answer!.text).toBe('browser got: hello from node over tcp');
    expect(answer!.qos).toBe(1);

    // The page records 'published' when its PUBACK arrives, which may be after the TCP client got the message.
    await tab.waitForFunction(() => (window as unknown as { junctionTest: PageState }).junctionTest.events.includes('published'), undefined, { timeout: 10_000 });
    const state = await tab.evaluate(() => (window as unknown as { junctionTest: PageState }).junctionTest);
    expect(state.error).toBeUndefined();
    expect(state.received).toEqual([{ topic: down, text: 'hello from node over tcp', qos: 1 }]);
    expect(state.events).toEqual(['session', 'connect', 'subscribed', `message ${down}`, 'published']);
    expect(pageErrors).toEqual([]);

    // Garbage on a second stream of the same session ends that stream only: the page's MQTT
    // connection on the first stream still answers.
    const garbage = await tab.evaluate(() => (window as unknown as { junctionGarbage: () => Promise<string> }).junctionGarbage());
    expect(garbage).toMatch(/^(ended|reset)/);
    await node.client.publishAsync(down, 'after garbage', { qos: 1 });
    await node.waitMessage((m) => m.text === 'browser got: after garbage', 'the answer after garbage', 10_000);
    // The engine cuts the refused stream shortly after its last packet; the session stays.
    for (let i = 0; i < 100 && b.wt.stats().connections !== 1; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.wt.stats()).toMatchObject({ quic_connections: 1, sessions: 1, connections: 1 });

    await tab.close();
    await node.client.endAsync();
  });

  it('a session to another path fails in the browser (404) and leaves the listener serving', async () => {
    const tab = await browser!.newPage();
    await tab.goto(`${pageOrigin}/blank`);
    const refusedBefore = b.wt.stats().sessions_refused!;
    const result = await tab.evaluate(
      async ({ url, hash }) => {
        try {
          const t = new WebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash) }] });
          await t.ready;
          return 'opened';
        } catch (err) {
          return `refused: ${String(err)}`;
        }
      },
      { url: `https://127.0.0.1:${b.h3Port}/elsewhere`, hash: [...b.cert.hash] },
    );
    expect(result).toMatch(/^refused/);
    expect(b.wt.stats().sessions_refused).toBe(refusedBefore + 1);
    await tab.close();
  });
});
