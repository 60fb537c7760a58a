/** A bare MQTT 5 packet reader/writer on one QUIC stream, for tests that look at streams one by one. */
import type { Duplex } from 'node:stream';
import { Waitable } from '@junction/mqtt/testing';
import mqttPacket, { type Packet } from 'mqtt-packet';

export class RawStream extends Waitable {
  readonly packets: Packet[] = [];
  isClosed = false;
  private readonly parser = mqttPacket.parser({ protocolVersion: 5 });

  constructor(readonly stream: Duplex) {
    super();
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      this.changed();
    });
    stream.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    stream.on('error', () => {});
    stream.once('close', () => {
      this.isClosed = true;
      this.changed();
    });
  }

  send(packet: Packet): void {
    this.stream.write(mqttPacket.generate(packet, { protocolVersion: 5 }));
  }

  /** The first packet of this type (optionally matching) received on this stream. */
  next<C extends Packet['cmd']>(cmd: C, match: (p: Extract<Packet, { cmd: C }>) => boolean = () => true, timeoutMs = 3000): Promise<Extract<Packet, { cmd: C }>> {
    return this.until(() => this.packets.find((p): p is Extract<Packet, { cmd: C }> => p.cmd === cmd && match(p as Extract<Packet, { cmd: C }>)), `a ${cmd} packet`, timeoutMs);
  }

  waitClosed(timeoutMs = 3000): Promise<true> {
    return this.until(() => this.isClosed, 'the stream to close', timeoutMs);
  }

  protected describe(): string {
    return `[${this.packets.map((p) => p.cmd).join(', ')}]${this.isClosed ? ' (closed)' : ''}`;
  }
}

/** Payloads of the PUBLISH packets received on a stream. */
export function payloads(r: RawStream): string[] {
  return r.packets.filter((p) => p.cmd === 'publish').map((p) => String((p as { payload: Buffer }).payload));
}
