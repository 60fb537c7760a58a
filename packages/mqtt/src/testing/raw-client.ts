import type { Duplex } from 'node:stream';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';
import { brief, Waitable } from './waitable.js';

/**
 * A bare MQTT client over any byte stream, built on mqtt-packet: it sends exactly what a test
 * writes (also packets MQTT.js refuses to send) and never answers anything by itself, not even
 * with PINGREQ or PUBACK. Every packet received is kept in `packets`, in order.
 */
export class RawClient extends Waitable {
  readonly packets: Packet[] = [];
  /** Resolves when the stream closes (either side). */
  readonly closed: Promise<void>;
  isClosed = false;
  /** `Date.now()` when the stream closed. */
  closedAt = 0;
  private readonly parser: ReturnType<typeof mqttPacket.parser>;
  private parseError: Error | undefined;

  constructor(
    readonly stream: Duplex,
    readonly version: 3 | 4 | 5,
  ) {
    super();
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      this.changed();
    });
    this.parser.on('error', (err: Error) => {
      this.parseError = err;
      this.changed();
    });
    stream.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    stream.on('error', () => {});
    this.closed = new Promise((resolve) => {
      stream.once('close', () => {
        this.isClosed = true;
        this.closedAt = Date.now();
        this.changed();
        resolve();
      });
    });
  }

  send(packet: Packet): void {
    this.stream.write(mqttPacket.generate(packet, { protocolVersion: this.version }));
  }

  /** Write bytes as they are (for packets mqtt-packet refuses to encode). */
  sendBytes(bytes: Buffer | readonly number[]): void {
    this.stream.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  /** Send CONNECT (defaults: clean, keepalive 60) and wait for CONNACK. */
  async connect(over: Partial<IConnectPacket> & { clientId: string }, timeoutMs = 3000): Promise<IConnackPacket> {
    this.send({
      cmd: 'connect',
      protocolId: this.version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.version,
      clean: true,
      keepalive: 60,
      ...over,
    } as IConnectPacket);
    return (await this.next('connack', timeoutMs)) as IConnackPacket;
  }

  /** The first received packet of this type (optionally matching), waiting for it if needed. */
  next<C extends Packet['cmd']>(cmd: C, timeoutMs = 3000, match: (p: Extract<Packet, { cmd: C }>) => boolean = () => true): Promise<Extract<Packet, { cmd: C }>> {
    return this.until(() => {
      if (this.parseError) throw this.parseError;
      return this.packets.find((p): p is Extract<Packet, { cmd: C }> => p.cmd === cmd && match(p as Extract<Packet, { cmd: C }>));
    }, `a ${cmd} packet`, timeoutMs);
  }

  /** Wait until the stream is closed. */
  waitClosed(timeoutMs = 3000): Promise<true> {
    return this.until(() => this.isClosed, 'the connection to close', timeoutMs);
  }

  destroy(): void {
    this.stream.destroy();
  }

  protected describe(): string {
    return `[${this.packets.map((p) => brief(p as never)).join(', ')}]${this.isClosed ? ' (closed)' : ''}`;
  }
}

/**
 * An MQTT 3.1 / 3.1.1 CONNECT with a zero-length client identifier, which mqtt-packet (and
 * MQTT.js) refuse to encode when clean session is 0 or the level is 3.
 */
export function emptyClientIdConnect(version: 3 | 4, clean: boolean, keepalive = 60): Buffer {
  const name = Buffer.from(version === 3 ? 'MQIsdp' : 'MQTT');
  const variable = Buffer.concat([
    Buffer.from([0, name.length]),
    name,
    Buffer.from([version, clean ? 0x02 : 0x00, keepalive >> 8, keepalive & 0xff]),
    Buffer.from([0, 0]), // client identifier: empty string
  ]);
  return Buffer.concat([Buffer.from([0x10, variable.length]), variable]);
}
