import mqtt from 'mqtt';

export interface FloodOptions {
  clientId: string;
  topic: string;
  qos: 1 | 2;
  /** The payload of message `n` is `${prefix}${n}`. */
  prefix?: string;
  /** The first `n` (0). */
  firstId?: number;
  /** Called with `n` once message `n` is acknowledged (PUBACK, or PUBCOMP for QoS 2). */
  onAck: (n: number) => void;
}

/**
 * An MQTT 5 publisher sending numbered messages as fast as their acknowledgements come, 8 in
 * flight at once like a device fleet, until `stop()` (which ends the connection at once).
 */
export function flood(url: string, opts: FloodOptions): { stop: () => void } {
  const pub = mqtt.connect(url, { protocolVersion: 5, clientId: opts.clientId, reconnectPeriod: 0 });
  const prefix = opts.prefix ?? '';
  let n = opts.firstId ?? 0;
  let stopped = false;
  pub.on('error', () => {});
  pub.on('connect', () => {
    const one = () => {
      if (stopped || !pub.connected) return;
      const id = n++;
      pub.publish(opts.topic, `${prefix}${id}`, { qos: opts.qos }, (err) => {
        if (!err) opts.onAck(id);
        one();
      });
    };
    for (let i = 0; i < 8; i++) one();
  });
  return {
    stop: () => {
      stopped = true;
      pub.end(true);
    },
  };
}
