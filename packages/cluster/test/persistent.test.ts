import type { Message } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import { PersistentInterest } from '../src/persistent.js';

const msg = (topic: string, qos: 0 | 1 | 2, from = 'pub', retain = false): Message => ({
  topic,
  payload: Buffer.from('x'),
  qos,
  retain,
  from: { clientId: from, protocol: 'mqtt', peer: '127.0.0.1:1', node: 'me' },
  timestamp: 0,
});

const entry = (node: string, subscriptions: { filter: string; qos: 0 | 1 | 2; noLocal?: boolean; retainAsPublished?: boolean; subscriptionId?: number }[]) => ({
  node,
  session: { clientId: 'x', expiryInterval: 600, subscriptions },
});

describe('PersistentInterest', () => {
  it('finds the other nodes’ persistent sessions a QoS 1/2 message is for, one delivery per session', () => {
    const p = new PersistentInterest('me');
    p.apply('s1', entry('n1', [{ filter: 'a/#', qos: 1, subscriptionId: 3 }, { filter: 'a/+', qos: 2, subscriptionId: 4, retainAsPublished: true }]));
    p.apply('s2', entry('n2', [{ filter: 'a/b', qos: 2 }]));
    p.apply('mine', entry('me', [{ filter: 'a/#', qos: 1 }]));
    p.apply('shared', entry('n3', [{ filter: '$share/g/a/#', qos: 1 }]));
    p.apply('zero', entry('n3', [{ filter: 'a/#', qos: 0 }]));
    p.apply('clean', { node: 'n3' });
    const found = p.match(msg('a/b', 2, 'pub', true))!;
    expect([...found.keys()].sort()).toEqual(['n1', 'n2']);
    expect(found.get('n1')).toEqual([{ clientId: 's1', qos: 2, retain: true, subscriptionIds: [3, 4] }]);
    expect(found.get('n2')).toEqual([{ clientId: 's2', qos: 2, retain: false }]);
    // Capped by the message's QoS; QoS 0 messages are never confirmed.
    expect(p.match(msg('a/b', 1))!.get('n1')).toEqual([{ clientId: 's1', qos: 1, retain: false, subscriptionIds: [3, 4] }]);
    expect(p.match(msg('a/b', 0))).toBeUndefined();
    expect(p.match(msg('other', 1))).toBeUndefined();
  });

  it('skips a no-local subscription for its own messages, and follows moves and deletions', () => {
    const p = new PersistentInterest('me');
    p.apply('s1', entry('n1', [{ filter: 't', qos: 1, noLocal: true }]));
    expect(p.match(msg('t', 1, 's1'))).toBeUndefined();
    expect(p.match(msg('t', 1, 'other'))?.get('n1')).toHaveLength(1);
    p.apply('s1', entry('n2', [{ filter: 'u', qos: 1 }]));
    expect(p.nodeOf('s1')).toBe('n2');
    expect(p.match(msg('t', 1))).toBeUndefined();
    expect([...p.match(msg('u', 1))!.keys()]).toEqual(['n2']);
    p.apply('s1', undefined);
    expect(p.size).toBe(0);
    expect(p.match(msg('u', 1))).toBeUndefined();
  });
});
