/**
 * The browser side of webtransport-browser.test.ts, bundled with MQTT.js by esbuild: opens a
 * native WebTransport session (HTTP/3) to the listener with the test certificate's hash, runs
 * MQTT.js over one bidirectional stream through a custom stream builder, subscribes, and answers
 * each message it receives (`@junction/test-servers/browser-page`).
 */
import { answerMessages, recordError, startPage, type PageConfig } from '@junction/test-servers/browser-page';
import { Buffer } from 'buffer';
import mqtt from 'mqtt';
import { Duplex } from 'readable-stream';

const { config, state } = startPage<PageConfig & { hash: number[] }>();

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
  answerMessages(client, config, state);
}

main().catch((err: unknown) => recordError(state, String(err)));
