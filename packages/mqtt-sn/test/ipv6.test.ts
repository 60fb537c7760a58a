import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMqttSnGateway, type MqttSnHarness } from '../src/testing/index.js';

/** Whether this machine can bind UDP on ::1. */
async function ipv6Loopback(): Promise<boolean> {
  const s = createSocket('udp6');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(0, '::1', () => s.close(() => resolve(true)));
  });
}

const available = await ipv6Loopback();

describe.skipIf(!available)('IPv6', () => {
  let gw: MqttSnHarness;
  beforeAll(async () => {
    gw = await startMqttSnGateway({ listener: { bind: { host: '::1', port: 0 } } });
  });
  afterAll(() => gw.stop());

  it('a client over IPv6 connects, subscribes and receives', async () => {
    expect(gw.host).toBe('::1');
    const c = await gw.client();
    c.autoAck = true;
    await c.connect('v6');
    expect(gw.adapter.client('v6')?.peer).toBe(`[::1]:${c.port}`);
    await c.subscribe({ short: 'v6' }, 1);
    await c.publish({ kind: 'short', name: 'v6' }, 'six', 1);
    expect((await c.next('publish')).payload.toString()).toBe('six');
  });
});
