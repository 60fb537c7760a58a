/**
 * `$SYS` topics: only the broker publishes them (EMQX: clients may not), and the SysPublisher's
 * messages reach `$SYS/#` subscribers.
 */
import { SysPublisher } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { codeOf, uid, useScope, type ProtocolVersion } from './helpers.js';

export function sysTopicsBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('$SYS topics', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    it(`does not route a client's PUBLISH to $SYS/…${v5 ? '; QoS 1 gets PUBACK 0x87' : ''} (§4.7.2, EMQX)`, async () => {
      const topic = `$SYS/${uid('x')}`;
      const sub = await s.connect();
      await sub.client.subscribeAsync('$SYS/#', { qos: 1 });
      const pub = await s.connect();
      const ack = await pub.publishAcked(topic, 'forged', { qos: 1 });
      if (v5) expect(codeOf(ack)).toBe(0x87);
      await pub.client.publishAsync(topic, 'forged q0', { qos: 0 });
      // The client stays connected.
      expect(pub.isClosed).toBe(false);
      // Barrier through the broker's own $SYS publication.
      const mark = `$SYS/mark/${uid('m')}`;
      s.h.broker.publish({ topic: mark, payload: Buffer.from('mark'), qos: 0, retain: false });
      await sub.waitMessage((m) => m.topic === mark, mark);
      expect(sub.messages.filter((m) => m.topic === topic)).toEqual([]);
    });

    // The same rule for wills: a client cannot reach $SYS through its Will Message either.
    it('does not publish a will whose topic is under $SYS/ (§4.7.2, EMQX)', async () => {
      const topic = `$SYS/${uid('w')}`;
      const sub = await s.connect();
      await sub.client.subscribeAsync('$SYS/#', { qos: 1 });
      const dying = s.open({ will: { topic, payload: Buffer.from('forged will'), qos: 1, retain: true } });
      // Refusing the CONNECT is also acceptable; if accepted, drop it abnormally.
      const accepted = await dying.connected.then(() => true, () => false);
      if (accepted) {
        const gone = s.waitHook('client.disconnected', (c) => c.clientId === dying.clientId);
        dying.kill();
        await gone;
      }
      const mark = `$SYS/mark/${uid('m')}`;
      s.h.broker.publish({ topic: mark, payload: Buffer.from('mark'), qos: 0, retain: false });
      await sub.waitMessage((m) => m.topic === mark, mark);
      expect(sub.messages.filter((m) => m.topic === topic).map((m) => m.text)).toEqual([]);
    });

    it('publishes $SYS/brokers/{node}/… (uptime, datetime, stats, version) to $SYS/# subscribers, not to # [MQTT-4.7.2-1]', async () => {
      const sub = await s.connect();
      await sub.client.subscribeAsync('$SYS/#', { qos: 0 });
      const hash = await s.connect();
      await hash.client.subscribeAsync('#', { qos: 0 });
      await hash.client.subscribeAsync('+/brokers/#', { qos: 0 });
      const sys = new SysPublisher(s.h.broker, { sys_msg_interval: 100, sys_heartbeat_interval: 100 });
      sys.start();
      s.defer(() => sys.stop());
      const base = `$SYS/brokers/${s.h.broker.nodeName}`;
      const uptime = await sub.waitMessage((m) => m.topic === `${base}/uptime`, 'uptime');
      expect(uptime.text).toMatch(/^\d+$/);
      const datetime = await sub.waitMessage((m) => m.topic === `${base}/datetime`, 'datetime');
      expect(Number.isNaN(Date.parse(datetime.text))).toBe(false);
      const conns = await sub.waitMessage((m) => m.topic === `${base}/stats/connections/count`, 'connections count');
      expect(Number(conns.text)).toBeGreaterThanOrEqual(1);
      const ver = await sub.waitMessage((m) => m.topic === `${base}/version`, 'version');
      expect(ver.text.length).toBeGreaterThan(0);
      // Published repeatedly, every interval.
      await sub.until(() => sub.messages.filter((m) => m.topic === `${base}/uptime`).length >= 3 || undefined, 'three uptime messages', 2000);
      await s.flush(hash);
      expect(hash.messages.filter((m) => m.topic.startsWith('$'))).toEqual([]);
      // Retained ones reach a later subscriber with RETAIN 1; `#` does not see them [MQTT-4.7.2-1].
      const late = await s.connect();
      await late.client.subscribeAsync(`${base}/version`, { qos: 0 });
      const [r] = await late.waitMessages(1, base);
      expect([r!.text, r!.retain]).toEqual([ver.text, true]);
    });
  });
}
