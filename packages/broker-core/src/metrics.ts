/**
 * Broker-wide counters with EMQX's metric names, shared by every adapter so the same name
 * means the same thing for MQTT, MQTT-SN, CoAP and OCPP clients.
 */
export const COUNTERS = [
  'connections.accepted',
  'client.connected',
  'client.disconnected',
  'client.auth.failure',
  'client.connack.failure',
  'packets.received',
  'packets.sent',
  'bytes.received',
  'bytes.sent',
  'messages.received',
  'messages.sent',
  'messages.qos0.received',
  'messages.qos1.received',
  'messages.qos2.received',
  'messages.qos0.sent',
  'messages.qos1.sent',
  'messages.qos2.sent',
  'messages.publish',
  'messages.delivered',
  'messages.acked',
  'messages.retained',
  'messages.dropped',
  'messages.dropped.no_subscribers',
  'messages.dropped.queue_full',
  'messages.dropped.expired',
  'messages.dropped.not_authorized',
  'messages.dropped.too_large',
  'messages.dropped.denied_by_hook',
  'messages.dropped.session_ended',
  'authorization.allow',
  'authorization.deny',
] as const;

export type CounterName = (typeof COUNTERS)[number];

export class Metrics {
  /** Plain fields, incremented in place on the hot path. */
  readonly counters: Record<CounterName, number>;

  constructor() {
    this.counters = Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Record<CounterName, number>;
  }

  inc(name: CounterName, by = 1): void {
    this.counters[name] += by;
  }

  snapshot(): Record<CounterName, number> {
    return { ...this.counters };
  }
}
