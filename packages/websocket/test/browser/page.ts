/**
 * The browser side of browser.test.ts, bundled with MQTT.js by esbuild: connects to the ws
 * listener given in the page's config, subscribes, and answers each message it receives with one
 * of its own (`@junction/test-servers/browser-page`), noting the WebSocket subprotocol too.
 */
import { answerMessages, startPage } from '@junction/test-servers/browser-page';
import mqtt from 'mqtt';

const { config, state } = startPage();
const client = mqtt.connect(config.url, { clientId: config.clientId, protocolVersion: 5, reconnectPeriod: 0 });
answerMessages(client, config, state, () => {
  state.protocol = (client.stream as unknown as { socket?: WebSocket }).socket?.protocol;
});
