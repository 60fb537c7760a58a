import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { expect, it, vi } from 'vitest';
import { startEmbeddedBroker } from '../examples/embed.js';

it('the README embedding example is the tested one', () => {
  const example = readFileSync(new URL('../examples/embed.ts', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(example.trim());
});

it('the embedding example serves MQTT clients and publishes from the service', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const service = await startEmbeddedBroker(0);
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${service.port}`, { clientId: 'device-1' });
    const status = new Promise<[string, string, boolean]>((r) => client.once('message', (t, p, pkt) => r([t, p.toString(), pkt.retain])));
    await client.subscribeAsync('service/#', { qos: 1 });
    expect(await status).toEqual(['service/status', 'up', true]);
    expect(log).toHaveBeenCalledWith('connected:', 'device-1');
    await client.endAsync();
  } finally {
    await service.stop();
    log.mockRestore();
  }
});
