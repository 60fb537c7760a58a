/**
 * The browser side of the transports' browser tests (bundled into each test page by esbuild,
 * see `./browser.ts` for the Node side): the page reads its config from `<script id="config">`,
 * records everything it sees in `window.junctionTest`, subscribes to `down` once MQTT.js is
 * connected and answers every message there with one of its own on `up`. Each page only opens
 * its transport (a WebSocket URL, a WebTransport stream, ...) and hands the client over.
 */
import type { MqttClient } from 'mqtt';

/** What every test page is given. Pages may be given more (a certificate hash, ...). */
export interface PageConfig {
  url: string;
  clientId: string;
  /** The topic the page subscribes to. */
  down: string;
  /** The topic the page answers on. */
  up: string;
}

/** What a page saw, in order; the test reads it with `pageState`. */
export interface PageState {
  events: string[];
  subscribed: boolean;
  received: { topic: string; text: string; qos: number }[];
  /** The WebSocket subprotocol, where the page knows it. */
  protocol?: string;
  error?: string;
}

/** The page's config and its (still empty) state, published as `window.junctionTest`. */
export function startPage<C extends PageConfig = PageConfig>(): { config: C; state: PageState } {
  const config = JSON.parse(document.getElementById('config')!.textContent!) as C;
  const state: PageState = { events: [], subscribed: false, received: [] };
  (window as unknown as { junctionTest: PageState }).junctionTest = state;
  return { config, state };
}

/** Records a failure: `state.error` and an `error …` event. */
export function recordError(state: PageState, message: string): void {
  state.error = message;
  state.events.push(`error ${message}`);
}

/**
 * Subscribes to `config.down` (QoS 1) when `client` connects and answers each message with
 * `browser got: <text>` on `config.up` (QoS 1). `onConnect` runs first on connect.
 */
export function answerMessages(client: MqttClient, config: PageConfig, state: PageState, onConnect?: () => void): void {
  client.on('connect', () => {
    state.events.push('connect');
    onConnect?.();
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
  client.on('error', (err) => recordError(state, err.message));
  client.on('close', () => state.events.push('close'));
}
