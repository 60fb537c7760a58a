/**
 * The broker core's hooks, turned into rule events. Hooks on the message path
 * (`message.publish`, `message.delivered`, `message.acked`, `message.dropped`) and
 * `client.connack` are attached only while an enabled rule needs them, so a broker without such
 * rules pays nothing. Connection and subscription hooks stay attached: they keep what later
 * events need (a receiver's user name and address, a subscription's QoS at unsubscribe).
 */
import { isSysTopic, type ClientInfo, type Hooks, type Logger, type Message } from '@junction/broker-core';
import type { RuleEngine } from '../engine.js';
import type { ValueMap } from '../runtime/values.js';
import type { EventName } from './catalog.js';
import { EventColumns, type ConnSnapshot } from './columns.js';

export interface EventHooksOptions {
  readonly ignoreSysMessage: boolean;
  readonly log: Logger;
}

export interface EventHooks {
  /** Attach or detach the message-path hooks to match the rules. */
  refresh(): void;
  detach(): void;
}

export function attachEventHooks(hooks: Hooks, engine: RuleEngine, cols: EventColumns, opts: EventHooksOptions): EventHooks {
  const clients = new Map<string, ConnSnapshot>();
  const subQos = new Map<string, Map<string, number>>();
  const skip = (msg: Message) => opts.ignoreSysMessage && isSysTopic(msg.topic);

  const fire = (name: EventName, build: () => ValueMap) => {
    const rules = engine.forEvent(name);
    if (rules.length === 0) return;
    engine.apply(rules, build());
  };

  const permanent: (() => void)[] = [
    hooks.on('client.connected', (client, info) => {
      clients.set(client.clientId, { client, info });
      fire('client.connected', () => cols.connected(client, info));
    }),
    hooks.on('client.disconnected', (client, reason) => {
      const snap = clients.get(client.clientId);
      fire('client.disconnected', () => cols.disconnected(client, reason, snap));
    }),
    hooks.on('session.terminated', (clientId) => {
      clients.delete(clientId);
      subQos.delete(clientId);
    }),
    hooks.on('session.subscribed', (client, sub) => {
      let m = subQos.get(client.clientId);
      if (!m) subQos.set(client.clientId, (m = new Map()));
      m.set(sub.filter, sub.qos);
      fire('session.subscribed', () => cols.subscribed(client, sub));
    }),
    hooks.on('session.unsubscribed', (client, filter) => {
      const qos = subQos.get(client.clientId)?.get(filter);
      subQos.get(client.clientId)?.delete(filter);
      fire('session.unsubscribed', () => cols.unsubscribed(client, filter, qos));
    }),
  ];

  const receiver = (clientId: string): ClientInfo | { clientId: string } => clients.get(clientId)?.client ?? { clientId };

  /** Hook name, the events that need it, and how to attach it. */
  const dynamic: { needs: EventName[]; attach: () => () => void; off?: () => void }[] = [
    {
      needs: ['message.publish'],
      attach: () =>
        hooks.intercept('message.publish', (msg) => {
          try {
            if (!skip(msg)) {
              const rules = engine.forTopic(msg.topic);
              if (rules.length > 0) engine.apply(rules, cols.publish(msg));
            }
          } catch (err) {
            opts.log.error({ err, topic: msg.topic }, 'rule_publish_hook_failed');
          }
          return msg;
        }),
    },
    { needs: ['client.connack'], attach: () => hooks.on('client.connack', (info, result) => fire('client.connack', () => cols.connack(info, result))) },
    {
      needs: ['client.check_authn_complete'],
      attach: () => hooks.on('client.check_authn_complete', (info, outcome) => fire('client.check_authn_complete', () => cols.authnComplete(info, outcome))),
    },
    {
      needs: ['client.check_authz_complete'],
      attach: () => hooks.on('client.check_authz_complete', (req, result, source) => fire('client.check_authz_complete', () => cols.authzComplete(req, result, source))),
    },
    {
      needs: ['message.delivered'],
      attach: () => hooks.on('message.delivered', (client, d) => !skip(d.message) && fire('message.delivered', () => cols.delivered(client, d))),
    },
    {
      needs: ['message.acked'],
      attach: () => hooks.on('message.acked', (client, msg) => !skip(msg) && fire('message.acked', () => cols.acked(client, msg))),
    },
    {
      needs: ['message.dropped', 'delivery.dropped'],
      attach: () =>
        hooks.on('message.dropped', (msg, reason, clientId) => {
          if (skip(msg)) return;
          if (clientId === undefined) fire('message.dropped', () => cols.dropped(msg, reason));
          else fire('delivery.dropped', () => cols.deliveryDropped(msg, reason, receiver(clientId)));
        }),
    },
  ];

  const refresh = () => {
    for (const d of dynamic) {
      const needed = d.needs.some((n) => engine.needs(n));
      if (needed && !d.off) d.off = d.attach();
      else if (!needed && d.off) {
        d.off();
        d.off = undefined;
      }
    }
  };

  return {
    refresh,
    detach() {
      for (const off of permanent.splice(0)) off();
      for (const d of dynamic) {
        d.off?.();
        d.off = undefined;
      }
      clients.clear();
      subQos.clear();
    },
  };
}
