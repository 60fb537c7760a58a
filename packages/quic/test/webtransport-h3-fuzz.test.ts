/**
 * Garbage at the HTTP/3 layer, on a live listener: random bytes on the control stream or on a
 * request stream end that stream or that connection with an HTTP/3 error code, never the
 * process, and never another client: a bystander MQTT connection over WebTransport opened
 * before the garbage still works after it.
 */
import { randomBytes } from 'node:crypto';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3 } from '../src/webtransport/index.js';
import { H3TestClient } from './wt-h3-client.js';
import { startWtBroker, type WtBroker } from './wt-helpers.js';

const H3_CODES = new Set<number>(Object.values(H3));

let b: WtBroker;
let bystander: { h3: H3TestClient; mqtt: TestClient; topic: string };
beforeAll(async () => {
  b = await startWtBroker({ broker: { config: { allow_anonymous: true } }, listener: { http2: { enable: false, bind: { host: '127.0.0.1', port: 0 } } } });
  const h3 = await H3TestClient.connect(b.h3Port);
  await h3.openControl();
  const s = await h3.session('/mqtt', b.h3Port);
  const stream = await h3.openStream(s.id);
  const id = uid('bystander');
  const c = new TestClient(new mqtt.MqttClient(() => stream as never, { clientId: id, protocolVersion: 5, reconnectPeriod: 0 }), id);
  await c.connected;
  const topic = topicFor('bystander');
  await c.client.subscribeAsync(topic, { qos: 1 });
  bystander = { h3, mqtt: c, topic };
});
afterAll(async () => {
  await bystander?.mqtt.client.endAsync(true);
  await bystander?.h3.close();
  await b?.stop();
});

async function bystanderAlive(): Promise<void> {
  const payload = uid('alive');
  await bystander.mqtt.client.publishAsync(bystander.topic, payload, { qos: 1 });
  await bystander.mqtt.waitMessage((m) => m.text === payload, `bystander message ${payload}`);
}

describe('garbage on HTTP/3 streams', () => {
  it('random bytes on the control stream close that connection with an H3 error code', async () => {
    for (let i = 0; i < 8; i++) {
      const h3 = await H3TestClient.connect(b.h3Port);
      const control = await h3.openControl(Buffer.concat([Buffer.from([0x00]), randomBytes(1 + i * 7)]));
      // Ending the control stream is itself an error if the garbage did not already close us.
      await control.writable.close().catch(() => {});
      const close = await h3.closed;
      expect(close?.isApp).toBe(true);
      expect(H3_CODES.has(close!.errorCode)).toBe(true);
      await h3.close();
    }
    await bystanderAlive();
  });

  it('random bytes on request streams never open a session and never take the listener down', async () => {
    const outcomes = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const h3 = await H3TestClient.connect(b.h3Port);
      await h3.openControl();
      const stream = h3.quic.connection.newStream('bidi');
      const w = stream.writable.getWriter();
      await w.write(randomBytes(2 + i * 11));
      await w.close().catch(() => {});
      const outcome = await Promise.race([
        (async () => {
          const r = stream.readable.getReader();
          try {
            for (;;) {
              const { done } = await r.read();
              if (done) return 'stream ended';
            }
          } catch {
            return 'stream reset';
          }
        })(),
        h3.closed.then((c) => `connection closed 0x${c?.errorCode.toString(16)}`),
        new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), 3000)),
      ]);
      expect(outcome).not.toBe('no answer');
      outcomes.add(outcome);
      expect(b.wt.stats().sessions).toBe(1); // the bystander's only
      await h3.close();
    }
    expect(outcomes.size).toBeGreaterThan(0);
    await bystanderAlive();
  });

  it('a second control stream is H3_STREAM_CREATION_ERROR; a client push stream too', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    await h3.openControl();
    expect(await h3.closed).toEqual({ isApp: true, errorCode: H3.STREAM_CREATION_ERROR });
    const h3b = await H3TestClient.connect(b.h3Port);
    await h3b.openControl(Buffer.from([0x01, 0x00]));
    expect(await h3b.closed).toEqual({ isApp: true, errorCode: H3.STREAM_CREATION_ERROR });
    await bystanderAlive();
  });
});
