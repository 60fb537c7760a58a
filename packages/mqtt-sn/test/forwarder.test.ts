import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode, openUdpEndpoint, type MqttSnMessage, type UdpEndpoint } from '../src/index.js';
import { startStack, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s.stop());

/** A forwarder relaying two wireless nodes over one UDP socket (§5.5). */
async function forwarder(port: number) {
  const ep: UdpEndpoint = await openUdpEndpoint();
  const inbox: { node: string; msg: MqttSnMessage }[] = [];
  ep.onMessage((data) => {
    const m = decode(data);
    if (m.type === 'encapsulated') inbox.push({ node: m.wirelessNodeId.toString('hex'), msg: m.message });
  });
  return {
    ep,
    inbox,
    send: (node: string, message: MqttSnMessage) => ep.send(encode({ type: 'encapsulated', radius: 0, wirelessNodeId: Buffer.from(node, 'hex'), message }), '127.0.0.1', port),
    async next(node: string, type: MqttSnMessage['type']): Promise<MqttSnMessage> {
      const end = Date.now() + 2000;
      for (;;) {
        const i = inbox.findIndex((x) => x.node === node && x.msg.type === type);
        if (i >= 0) return inbox.splice(i, 1)[0]!.msg;
        if (Date.now() > end) throw new Error(`no ${type} for node ${node}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('forwarder encapsulation (§5.5)', () => {
  it('clients behind one forwarder are distinct clients; replies come back wrapped for their node', async () => {
    const f = await forwarder(s.sn.port);
    try {
      f.send('0a01', { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'node-a' });
      f.send('0a02', { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'node-b' });
      expect(await f.next('0a01', 'connack')).toEqual({ type: 'connack', returnCode: 0 });
      expect(await f.next('0a02', 'connack')).toEqual({ type: 'connack', returnCode: 0 });
      f.send('0a02', { type: 'subscribe', dup: false, qos: 0, msgId: 1, topic: { kind: 'short', name: 'fw' } });
      await f.next('0a02', 'suback');
      f.send('0a01', { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'fw' }, msgId: 0, payload: Buffer.from('via forwarder') });
      const p = await f.next('0a02', 'publish');
      expect(p).toMatchObject({ topic: { kind: 'short', name: 'fw' } });
      expect(s.sn.adapter.client('node-a')?.peer).toBe(`127.0.0.1:${f.ep.port}/0a01`);
    } finally {
      await f.ep.close();
    }
  });
});
