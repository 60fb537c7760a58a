import { describe, expect, it } from 'vitest';
import { connect, msg, newBroker, tick } from './helpers.js';

describe('routing', () => {
  it('delivers to exact and wildcard subscribers, not to non-matching ones', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    const b = await connect(broker, 'b');
    const c = await connect(broker, 'c');
    await a.handle.subscribe([{ filter: 'x/y', qos: 0 }]);
    await b.handle.subscribe([{ filter: 'x/+', qos: 0 }]);
    await c.handle.subscribe([{ filter: 'z/#', qos: 0 }]);
    const p = await connect(broker, 'p');
    expect(p.handle.publish(msg('x/y', 'hi'))).toEqual({ matched: 2 });
    expect(a.sink.messages).toEqual([['x/y', 'hi']]);
    expect(b.sink.messages).toEqual([['x/y', 'hi']]);
    expect(c.sink.messages).toEqual([]);
  });

  it('[MQTT-4.7.2-1] does not match $-topics with a leading wildcard', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: '#', qos: 0 }, { filter: '+/info', qos: 0 }]);
    broker.publish(msg('$SYS/info'));
    expect(a.sink.deliveries).toHaveLength(0);
    const s = await connect(broker, 's');
    await s.handle.subscribe([{ filter: '$SYS/#', qos: 0 }]);
    broker.publish(msg('$SYS/info'));
    expect(s.sink.messages).toEqual([['$SYS/info', 'x']]);
  });

  it('[MQTT-3.3.4-2] overlapping subscriptions give one delivery at the highest QoS with all identifiers', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: 'a/+', qos: 1, subscriptionId: 1 }]);
    await a.handle.subscribe([{ filter: 'a/#', qos: 2, subscriptionId: 2 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('a/b', 'm', { qos: 2 }));
    expect(a.sink.deliveries).toHaveLength(1);
    expect(a.sink.deliveries[0]!.qos).toBe(2);
    expect([...a.sink.deliveries[0]!.subscriptionIds!].sort()).toEqual([1, 2]);
  });

  it('downgrades QoS to the subscription and keeps retain only when retain-as-published', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    const b = await connect(broker, 'b');
    await a.handle.subscribe([{ filter: 't', qos: 0 }]);
    await b.handle.subscribe([{ filter: 't', qos: 2, retainAsPublished: true }]);
    await tick();
    broker.publish(msg('t', 'r', { qos: 1, retain: true }));
    expect(a.sink.deliveries[0]).toMatchObject({ qos: 0, retain: false, packetId: 0 });
    expect(b.sink.deliveries[0]).toMatchObject({ qos: 1, retain: true });
    expect(b.sink.deliveries[0]!.packetId).toBeGreaterThan(0);
  });

  it('[MQTT-3.8.3-3] no local: a client does not receive its own messages', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: 't', qos: 0, noLocal: true }]);
    a.handle.publish(msg('t'));
    expect(a.sink.deliveries).toHaveLength(0);
    broker.publish(msg('t'));
    expect(a.sink.deliveries).toHaveLength(1);
  });

  it('unsubscribe stops delivery and reports whether a subscription existed', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: 't/#', qos: 0 }]);
    expect(await a.handle.unsubscribe(['t/#', 'nope'])).toEqual([true, false]);
    broker.publish(msg('t/1'));
    expect(a.sink.deliveries).toHaveLength(0);
    expect(broker.stats().subscriptions).toBe(0);
  });

  it('refuses invalid filters per filter and clients publishing to $SYS', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    const r = await a.handle.subscribe([{ filter: 'a/#/b', qos: 0 }, { filter: 'ok', qos: 1 }]);
    expect(r[0]).toMatchObject({ ok: false, error: { code: 'topic_filter_invalid' } });
    expect(r[1]).toEqual({ ok: true, qos: 1 });
    expect(() => a.handle.publish(msg('$SYS/x'))).toThrow(expect.objectContaining({ code: 'not_authorized' }));
    expect(() => a.handle.publish(msg('a/+'))).toThrow(expect.objectContaining({ code: 'topic_name_invalid' }));
  });

  it('counts messages dropped for lack of subscribers', async () => {
    const { broker } = newBroker();
    const dropped: string[] = [];
    broker.hooks.on('message.dropped', (m, reason) => dropped.push(`${m.topic}:${reason}`));
    broker.publish(msg('nobody'));
    expect(dropped).toEqual(['nobody:no_subscribers']);
    expect(broker.metrics.counters['messages.dropped.no_subscribers']).toBe(1);
  });
});

describe('retained messages', () => {
  it('sends retained messages on subscribe with RETAIN set, replaces and clears them', async () => {
    const { broker } = newBroker();
    broker.publish(msg('r/1', 'one', { retain: true, qos: 1 }));
    broker.publish(msg('r/2', 'two', { retain: true }));
    broker.publish(msg('r/2', 'two-b', { retain: true }));
    broker.publish(msg('r/3', 'three', { retain: true }));
    broker.publish(msg('r/3', '', { retain: true }));
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: 'r/+', qos: 0 }]);
    await tick();
    expect(a.sink.messages.sort()).toEqual([['r/1', 'one'], ['r/2', 'two-b']]);
    expect(a.sink.deliveries.every((d) => d.retain && d.qos === 0)).toBe(true);
  });

  it('[MQTT-3.3.1-10/11] retain handling 1 sends only for new subscriptions, 2 never', async () => {
    const { broker } = newBroker();
    broker.publish(msg('r', 'v', { retain: true }));
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: 'r', qos: 0, retainHandling: 1 }]);
    await tick();
    await a.handle.subscribe([{ filter: 'r', qos: 0, retainHandling: 1 }]);
    await tick();
    expect(a.sink.deliveries).toHaveLength(1);
    const b = await connect(broker, 'b');
    await b.handle.subscribe([{ filter: 'r', qos: 0, retainHandling: 2 }]);
    await tick();
    expect(b.sink.deliveries).toHaveLength(0);
  });

  it('does not send expired retained messages', async () => {
    const { broker, clock } = newBroker();
    broker.publish(msg('r', 'v', { retain: true, properties: { messageExpiryInterval: 5 } }));
    clock.advance(6000);
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: 'r', qos: 0 }]);
    await tick();
    expect(a.sink.deliveries).toHaveLength(0);
  });

  it('sweeps expired retained messages out of the store every retained_msg_clear_interval', async () => {
    const { broker, clock } = newBroker({ config: { retained_msg_clear_interval: 60_000 } });
    broker.publish(msg('r/short', 'v', { retain: true, properties: { messageExpiryInterval: 5 } }));
    broker.publish(msg('r/long', 'v', { retain: true, properties: { messageExpiryInterval: 3600 } }));
    broker.publish(msg('r/forever', 'v', { retain: true }));
    await tick();
    expect(await broker.retained.count()).toBe(3);
    clock.advance(59_000);
    await tick();
    expect(await broker.retained.count()).toBe(3);
    clock.advance(1_000);
    await tick();
    expect(await broker.retained.count()).toBe(2);
    // The sweep re-arms itself once it is done.
    clock.advance(3_600_000);
    await tick();
    clock.advance(60_000);
    await tick();
    expect(await broker.retained.count()).toBe(1);
    await broker.close();
  });
});

describe('re-entrant routing', () => {
  it('a sink publishing from inside deliver() does not disturb the outer publish', async () => {
    const { broker } = newBroker();
    const { RecordingSink } = await import('../src/testing/index.js');
    const got: string[] = [];
    class RelaySink extends RecordingSink {
      relay?: (topic: string) => void;
      override deliver(d: Parameters<RecordingSink['deliver']>[0]): boolean {
        got.push(`a <- ${d.message.topic}`);
        this.relay?.(d.message.topic);
        return super.deliver(d);
      }
    }
    const relaySink = new RelaySink();
    const a = await connect(broker, 'a', {}, relaySink);
    relaySink.relay = (t) => {
      if (t === 'x/in') a.handle.publish(msg('y/out'));
    };
    const b = await connect(broker, 'b');
    const c = await connect(broker, 'c');
    await a.handle.subscribe([{ filter: 'x/in', qos: 0 }]);
    await b.handle.subscribe([{ filter: 'y/out', qos: 0 }]);
    await c.handle.subscribe([{ filter: 'x/#', qos: 1 }]);
    broker.publish(msg('x/in', 'p', { qos: 1 }));
    expect(got).toEqual(['a <- x/in']);
    expect(b.sink.messages).toEqual([['y/out', 'x']]);
    expect(c.sink.deliveries.map((d) => [d.message.topic, d.qos])).toEqual([['x/in', 1]]);
  });
});
