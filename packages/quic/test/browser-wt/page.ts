/**
 * The browser side of webtransport-browser.test.ts, bundled with MQTT.js by esbuild: opens a
 * native WebTransport session (HTTP/3) to the listener with the test certificate's hash, runs
 * MQTT.js over one bidirectional stream through a custom stream builder, subscribes, and answers
 * the first message it receives. Everything it sees goes to `window.junctionTest`.
 */
import { Buffer } from 'buffer';
import mqtt from 'mqtt';
import { Duplex } from 'readable-stream';

interface PageConfig {
  url: string;
  hash: number[];
  clientId: string;
  down: string;
  up: string;
}

interface PageState {
  events: string[];
  subscribed: boolean;
  received: { topic: string; text: string; qos: number }[];
  error?: string;
}

const config = JSON.parse(document.getElementById('config')!.textContent!) as PageConfig;
const state: PageState = { events: [], subscribed: false, received: [] };
(window as unknown as { junctionTest: PageState }).junctionTest = state;

/** A WebTransport bidirectional stream as the duplex MQTT.js reads and writes. */
function streamDuplex(bidi: WebTransportBidirectionalStream): Duplex {
  const reader = bidi.readable.getReader();
  const writer = bidi.writable.getWriter();
  let reading = false;
  const duplex: Duplex = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) {
              duplex.push(null);
              return;
            }
            if (!duplex.push(Buffer.from(value))) return;
          }
        } catch (err) {
          duplex.destroy(err as Error);
        } finally {
          reading = false;
        }
      })();
    },
    write(chunk: Uint8Array, _enc: string, cb: (err?: Error | null) => void) {
      writer.write(chunk).then(() => cb(), (err: Error) => cb(err));
    },
    final(cb: (err?: Error | null) => void) {
      writer.close().then(() => cb(), () => cb());
    },
    destroy(err: Error | null, cb: (err: Error | null) => void) {
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
      cb(err);
    },
  });
  return duplex;
}

async function main(): Promise<void> {
  const transport = new WebTransport(config.url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(config.hash) }] });
  await transport.ready;
  state.events.push('session');
  // For the test: garbage on a second stream of the same session; resolves with how it ended.
  (window as unknown as { junctionGarbage: () => Promise<string> }).junctionGarbage = async () => {
    const bad = await transport.createBidirectionalStream();
    const w = bad.writable.getWriter();
    await w.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    const r = bad.readable.getReader();
    try {
      for (;;) {
        const { done } = await r.read();
        if (done) return 'ended';
      }
    } catch (err) {
      return `reset: ${String(err)}`;
    }
  };
  const stream = streamDuplex(await transport.createBidirectionalStream());
  const client = new mqtt.MqttClient(() => stream as never, { clientId: config.clientId, protocolVersion: 5, reconnectPeriod: 0 });
  client.on('connect', () => {
    state.events.push('connect');
    client.subscribe(config.down, { qos: 1 }, (err) => {
      if (err) state.error = String(err);
      else state.subscribed = true;
      state.events.push('subscribed');
    });
  });
  client.on('message', (topic, payload, packet) => {
    const text = new TextDecoder().decode(payload);
    state.received.push({ topic, text, qos: packet.qos });
    state.events.push(`message ${topic}`);
    client.publish(config.up, `browser got: ${text}`, { qos: 1 }, (err) => {
      state.events.push(err ? `publish failed ${String(err)}` : 'published');
    });
  });
  client.on('error', (err) => {
    state.error = err.message;
    state.events.push(`error ${err.message}`);
  });
  client.on('close', () => state.events.push('close'));
}

main().catch((err: unknown) => {
  state.error = String(err);
  state.events.push(`error ${String(err)}`);
});
