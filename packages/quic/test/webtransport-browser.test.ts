/**
 * Browser proof: headless Debian Chromium (playwright-core, never a downloaded browser) runs
 * MQTT.js, bundled by esbuild, over its native WebTransport (HTTP/3 over QUIC) to the
 * webtransport listener, and exchanges messages with a Node MQTT.js client on the TCP listener
 * of the same broker. Chromium trusts the listener's short-lived ECDSA certificate through
 * `serverCertificateHashes`; QUIC stays enabled and every name but 127.0.0.1 fails to resolve.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import { CHROMIUM, hasChromium, nextConnect, startBrowserPage, waitForPage, type BrowserPage } from '@junction/test-servers/browser';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWtBroker, type WtBroker } from './wt-helpers.js';

describe.skipIf(!hasChromium)(`MQTT over WebTransport in headless Chromium (${CHROMIUM})`, () => {
  let b: WtBroker;
  let web: BrowserPage | undefined;

  beforeAll(async () => {
    web = await startBrowserPage({
      entry: join(dirname(fileURLToPath(import.meta.url)), 'browser-wt', 'page.ts'),
      build: {
        // readable-stream reads `process` and `global` as Node would.
        define: { global: 'globalThis' },
        banner: { js: 'globalThis.process ??= { env: {}, nextTick: (fn, ...a) => queueMicrotask(() => fn(...a)), version: "", browser: true };' },
      },
      chromiumArgs: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    b = await startWtBroker({ broker: { config: { allow_anonymous: true } } });
  }, 60_000);

  afterAll(async () => {
    await web?.close();
    await b?.stop();
  });

  it('a page runs MQTT.js over a native WebTransport stream and exchanges messages with a TCP client', async () => {
    const down = topicFor('to-browser');
    const up = topicFor('from-browser');
    const browserId = uid('web');
    const connected = nextConnect(b.broker, browserId);
    web!.show({ url: `https://127.0.0.1:${b.h3Port}/mqtt`, hash: [...b.cert.hash], clientId: browserId, down, up }, 'Junction WebTransport test');

    const nodeId = uid('node');
    const node = new TestClient(mqtt.connect(`mqtt://127.0.0.1:${b.tcpPort}`, { clientId: nodeId, protocolVersion: 5, reconnectPeriod: 0 }), nodeId);
    await node.connected;
    await node.client.subscribeAsync(up, { qos: 1 });

    const { tab, pageErrors } = await web!.open();
    const early = await waitForPage(tab, { subscribed: true, error: true }, 15_000);
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
    const state = await waitForPage(tab, { event: 'published' });
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
    const { tab } = await web!.open('/blank');
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
