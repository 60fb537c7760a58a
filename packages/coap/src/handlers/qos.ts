/** QoS from a query parameter, or from the `publish_qos` / `subscribe_qos` mapping (EMQX). */
import type { QoS } from '@junction/broker-core';

export type QosMapping = 'coap' | 'qos0' | 'qos1' | 'qos2';

/** `coap`: a confirmable request means QoS 1, a non-confirmable one QoS 0. */
export function mappedQos(mapping: QosMapping, confirmable: boolean): QoS {
  switch (mapping) {
    case 'qos0': return 0;
    case 'qos1': return 1;
    case 'qos2': return 2;
    case 'coap': return confirmable ? 1 : 0;
  }
}

/** `0`, `1` or `2`; undefined when absent; null when present and not a QoS. */
export function queryQos(value: string | undefined): QoS | null | undefined {
  if (value === undefined) return undefined;
  return value === '0' || value === '1' || value === '2' ? (Number(value) as QoS) : null;
}
