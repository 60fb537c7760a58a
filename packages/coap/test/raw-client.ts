/**
 * A bare UDP socket speaking CoAP through the package's own codec: for datagrams well-behaved
 * clients never send, and to see exactly what the gateway sends (message types, Message IDs,
 * retransmissions), acknowledging or not as the test decides.
 */
import { createSocket, type Socket } from 'node:dgram';
import { codeFromString } from '../src/message/codes.js';
import { encode, parse, type CoapMessage, type MessageType } from '../src/message/frame.js';
import { decodeUint, encodeUint, getOption, Option, type CoapOption } from '../src/message/options.js';

export interface RawRequest {
  type?: MessageType;
  code?: string;
  messageId?: number;
  token?: Buffer;
  path?: string;
  query?: readonly string[];
  observe?: number;
  options?: readonly CoapOption[];
  payload?: Buffer | string;
}

export interface Received {
  readonly raw: Buffer;
  readonly message: CoapMessage;
  readonly at: number;
}

let nextId = 1000;

export class RawClient {
  readonly received: Received[] = [];
  private taken = 0;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (raw) => {
      const r = parse(raw);
      if (!r.ok) throw new Error(`the gateway sent a malformed datagram: ${raw.toString('hex')}`);
      this.received.push({ raw, message: r.message, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    return new RawClient(socket, port);
  }

  sendBytes(bytes: Buffer): void {
    this.socket.send(bytes, this.port, this.socket.address().address);
  }

  /** Sends a request; returns its Message ID. */
  send(r: RawRequest): number {
    const messageId = r.messageId ?? nextId++ % 0x10000;
    const options: CoapOption[] = [...(r.options ?? [])];
    if (r.observe !== undefined) options.push({ number: Option.OBSERVE, value: encodeUint(r.observe) });
    for (const seg of (r.path ?? '').split('/').filter(Boolean)) options.push({ number: Option.URI_PATH, value: Buffer.from(seg) });
    for (const q of r.query ?? []) options.push({ number: Option.URI_QUERY, value: Buffer.from(q) });
    this.sendBytes(
      encode({
        type: r.type ?? 'CON',
        code: codeFromString(r.code ?? '0.01'),
        messageId,
        token: r.token,
        options,
        payload: typeof r.payload === 'string' ? Buffer.from(r.payload) : r.payload,
      }),
    );
    return messageId;
  }

  ack(messageId: number): void {
    this.sendBytes(encode({ type: 'ACK', code: 0, messageId }));
  }

  rst(messageId: number): void {
    this.sendBytes(encode({ type: 'RST', code: 0, messageId }));
  }

  /** The next datagram (matching `match`, if given) not yet taken. */
  next(match: (m: CoapMessage) => boolean = () => true, timeoutMs = 3000, what = 'a datagram'): Promise<Received> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; received ${this.received.length}: ${this.received.map((r) => describe(r.message)).join(', ')}`)), timeoutMs);
      const check = () => {
        for (let i = this.taken; i < this.received.length; i++) {
          const r = this.received[i]!;
          if (match(r.message)) {
            this.received.splice(i, 1);
            this.received.splice(this.taken, 0, r);
            this.taken++;
            clearTimeout(t);
            resolve(r);
            return;
          }
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** The response (ACK or NON) to the request with this Message ID. */
  response(messageId: number, timeoutMs = 3000): Promise<CoapMessage> {
    return this.next((m) => m.messageId === messageId && m.code !== 0 && (m.type === 'ACK' || m.type === 'NON'), timeoutMs, `the response to ${messageId}`).then((r) => r.message);
  }

  /** Resolves if nothing (matching) arrives within `ms`; rejects with what did. */
  async nothing(ms: number, match: (m: CoapMessage) => boolean = () => true): Promise<void> {
    const before = this.received.length;
    await new Promise((r) => setTimeout(r, ms));
    const extra = this.received.slice(before).filter((r) => match(r.message));
    if (extra.length > 0) throw new Error(`expected nothing, got ${extra.map((r) => describe(r.message)).join(', ')}`);
  }

  close(): void {
    this.socket.close();
  }
}

export function codeOf(m: CoapMessage): string {
  return `${m.code >>> 5}.${String(m.code & 0x1f).padStart(2, '0')}`;
}

export function observeOf(m: CoapMessage): number | undefined {
  const v = getOption(m.options, Option.OBSERVE);
  return v === undefined ? undefined : decodeUint(v);
}

export function describe(m: CoapMessage): string {
  return `${m.type} ${codeOf(m)} mid=${m.messageId} token=${m.token.toString('hex')} opts=[${m.options.map((o) => `${o.number}:${o.value.toString('hex')}`).join(',')}] ${m.payload.length}B`;
}
