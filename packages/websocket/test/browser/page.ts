/**
 * The browser side of browser.test.ts, bundled with MQTT.js by esbuild: connects to the ws
 * listener given in the page's config, subscribes, and answers the first message it receives
 * with one of its own. Everything it sees is recorded in `window.junctionTest` for the test.
 */
import mqtt from 'mqtt';

interface PageConfig {
  url: string;
  clientId: string;
  down: string;
  up: string;
}

interface PageState {
  events: string[];
  subscribed: boolean;
  received: { topic: string; text: string; qos: number }[];
  protocol?: string;
  error?: string;
}

const config = JSON.parse(document.getElementById('config')!.textContent!) as PageConfig;
const state: PageState = { events: [], subscribed: false, received: [] };
(window as unknown as { junctionTest: PageState }).junctionTest = state;

const client = mqtt.connect(config.url, { clientId: config.clientId, protocolVersion: 5, reconnectPeriod: 0 });
client.on('connect', () => {
  state.events.push('connect');
  state.protocol = (client.stream as unknown as { socket?: WebSocket }).socket?.protocol;
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
