import { describe, expect, it } from 'vitest';
import { SysPublisher } from '../src/index.js';
import { connect, newBroker } from './helpers.js';

describe('$SYS client events (EMQX sys_event_messages)', () => {
  it('publishes connected and disconnected events as JSON; subscribed only when enabled', async () => {
    const { broker } = newBroker();
    const sys = new SysPublisher(broker, { sys_msg_interval: 0, sys_heartbeat_interval: 0, sys_event_messages: { client_connected: true, client_disconnected: true, client_subscribed: true, client_unsubscribed: false } });
    sys.start();
    const w = await connect(broker, 'watcher');
    await w.handle.subscribe([{ filter: '$SYS/brokers/+/clients/#', qos: 0 }]);
    const c = await connect(broker, 'dev-1', { username: 'u1', keepalive: 30, protocolVersion: 5 });
    await c.handle.subscribe([{ filter: 'a/b', qos: 1 }]);
    c.handle.close('normal');
    const events = w.sink.deliveries.filter((d) => d.message.topic.includes('/dev-')).map((d) => [d.message.topic, JSON.parse(d.message.payload.toString())]);
    const base = `$SYS/brokers/${broker.nodeName}/clients/dev-1`;
    expect(events.map((e) => e[0])).toEqual([`${base}/connected`, `${base}/subscribed`, `${base}/disconnected`]);
    expect(events[0]![1]).toMatchObject({ clientid: 'dev-1', username: 'u1', proto_name: 'TEST', proto_ver: 5, keepalive: 30, clean_start: true });
    expect(events[1]![1]).toMatchObject({ clientid: 'dev-1', topic: 'a/b', opts: { qos: 1, nl: 0, rap: 0, rh: 0 } });
    expect(events[2]![1]).toMatchObject({ clientid: 'dev-1', username: 'u1', reason: 'normal' });
    sys.stop();
    await connect(broker, 'dev-2');
    expect(w.sink.deliveries.filter((d) => d.message.topic.includes('/dev-'))).toHaveLength(3);
  });

  it('publishes statistics and the heartbeat on demand, with retained version', async () => {
    const { broker } = newBroker();
    const sys = new SysPublisher(broker, { sys_msg_interval: 0, sys_heartbeat_interval: 0 });
    sys.start();
    const w = await connect(broker, 'w');
    await w.handle.subscribe([{ filter: '$SYS/#', qos: 0 }]);
    await new Promise((r) => setImmediate(r));
    sys.publishStats();
    sys.heartbeat();
    const byTopic = new Map(w.sink.messages);
    const base = `$SYS/brokers/${broker.nodeName}`;
    expect(byTopic.get(`${base}/version`)).toBe('0.1.0');
    expect(byTopic.get(`${base}/stats/connections/count`)).toBe('1');
    expect(byTopic.get(`${base}/stats/subscriptions/count`)).toBe('1');
    expect(byTopic.get(`${base}/uptime`)).toBe('0');
    expect(byTopic.has(`${base}/metrics/messages/received`)).toBe(true);
    sys.stop();
  });
});
