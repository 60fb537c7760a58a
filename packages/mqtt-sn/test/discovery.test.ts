import { afterEach, describe, expect, it } from 'vitest';
import { encode, interfaceBroadcastAddresses, openUdpEndpoint, type MqttSnMessage } from '../src/index.js';
import { decode } from '../src/index.js';
import { startMqttSnGateway, type MqttSnHarness } from '../src/testing/index.js';

let gw: MqttSnHarness | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe('gateway discovery (§6.1)', () => {
  it('SEARCHGW is answered with GWINFO carrying gateway_id', async () => {
    gw = await startMqttSnGateway({ config: { gateway_id: 42 } });
    const c = await gw.client();
    c.send({ type: 'searchgw', radius: 1 });
    expect(await c.next()).toEqual({ type: 'gwinfo', gwId: 42 });
  });

  it('with broadcast on, ADVERTISE goes out at start and every advertise_interval', async () => {
    const listener = await openUdpEndpoint('127.0.0.1');
    const got: { msg: MqttSnMessage; at: number }[] = [];
    listener.onMessage((data) => got.push({ msg: decode(data), at: Date.now() }));
    try {
      gw = await startMqttSnGateway({
        config: { gateway_id: 7, broadcast: true, advertise_interval: 1000, broadcast_addresses: [{ host: '127.0.0.1', port: listener.port }] },
      });
      const deadline = Date.now() + 3000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got.map((g) => g.msg)).toEqual([
        { type: 'advertise', gwId: 7, duration: 1 },
        { type: 'advertise', gwId: 7, duration: 1 },
      ]);
      expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(900);
    } finally {
      await listener.close();
    }
  });

  it('ADVERTISE and GWINFO from other gateways are ignored', async () => {
    gw = await startMqttSnGateway();
    const c = await gw.client();
    c.sendRaw(encode({ type: 'advertise', gwId: 9, duration: 60 }));
    c.sendRaw(encode({ type: 'gwinfo', gwId: 9 }));
    await c.nothing(undefined, 150);
    expect(gw.adapter.stats()['packets.dropped']).toBe(0);
  });

  it('by default ADVERTISE goes to the broadcast address of each IPv4 interface', () => {
    for (const a of interfaceBroadcastAddresses()) expect(a).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});
