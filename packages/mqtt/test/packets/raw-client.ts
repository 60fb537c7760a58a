/**
 * A deliberately dumb MQTT client for packet-level tests: it sends exactly the bytes it is given
 * (packets generated with mqtt-packet, or hand-made buffers) and hands back every packet the
 * server sends, in order, together with the raw bytes of each frame.
 *
 * It works over any Duplex: a TCP socket to a test listener (`RawClient.tcp`) or one end of an
 * in-memory pair (`new RawClient(stream, version)`), so the fuzz test uses it too.
 */
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import mqtt, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';

export type Cmd = Packet['cmd'];
/**
 * A packet from the server, with the bytes of its frame (fixed header included). When mqtt-packet
 * (what MQTT.js uses) cannot parse the frame, `malformed` holds its error and the fields are a
 * best-effort decode of the fixed header, packet id and reason code.
 */
export type Received<C extends Cmd = Cmd> = Extract<Packet, { cmd: C }> & { raw: Buffer; malformed?: string };

const DEFAULT_TIMEOUT = 2000;
const live = new Set<RawClient>();

export class RawClient {
  /** Every packet received so far, in order (whether or not `next()` consumed it). */
  readonly received: Received[] = [];
  /** Set when the server's bytes cannot even be split into frames (bad remaining length). */
  parseError: Error | undefined;
  /** Set once the server closed the connection (or we destroyed it). */
  isClosed = false;
  /**
   * When set, each packet goes to this callback instead of the queue and is not recorded (for
   * long-running auto-acknowledging clients).
   */
  onPacket: ((p: Received) => void) | undefined;

  private readonly queue: Received[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiters: (() => boolean)[] = [];
  private readonly closeWaiters: (() => void)[] = [];
  private genOpts: { protocolVersion: number };

  constructor(
    readonly stream: Duplex,
    /** Protocol version used to generate packets and to parse server packets: 3, 4 or 5. */
    public version: 3 | 4 | 5 = 5,
  ) {
    live.add(this);
    this.genOpts = { protocolVersion: version };
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', () => this.onClose());
    stream.on('end', () => this.onClose());
    stream.on('close', () => this.onClose());
  }

  /** Open a TCP connection to 127.0.0.1:port; sends nothing. */
  static tcp(port: number, version: 3 | 4 | 5 = 5, timeoutMs = DEFAULT_TIMEOUT): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TCP connect to 127.0.0.1:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawClient(socket, version));
      });
    });
  }

  /**
   * TCP connect, send CONNECT (defaults: clean start, keepalive 0, the given client id) and
   * await the CONNACK, which must be a success.
   */
  static async connected(port: number, clientId: string, opts: { version?: 3 | 4 | 5; connect?: Partial<IConnectPacket> } = {}): Promise<RawClient> {
    const c = await RawClient.tcp(port, opts.version ?? 5);
    const ack = await c.handshake({ clientId, ...opts.connect });
    const code = c.version === 5 ? ack.reasonCode : ack.returnCode;
    if (code !== 0) throw new Error(`CONNACK refused ${clientId}: 0x${code?.toString(16)}`);
    return c;
  }

  /** Destroy every client still open (call from afterEach). */
  static destroyAll(): void {
    for (const c of live) c.destroy();
    live.clear();
  }

  /** Send CONNECT built from `over` (protocol version from this client) and await CONNACK. */
  async handshake(over: Partial<IConnectPacket> = {}, timeoutMs = DEFAULT_TIMEOUT): Promise<Received<'connack'>> {
    this.send(this.connectPacket(over));
    return this.next('connack', timeoutMs);
  }

  connectPacket(over: Partial<IConnectPacket> = {}): IConnectPacket {
    return {
      cmd: 'connect',
      protocolId: this.version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.version,
      clean: true,
      keepalive: 0,
      clientId: '',
      ...over,
    } as IConnectPacket;
  }

  /** Generate one packet with this client's protocol version (without sending it). */
  encode(packet: Packet): Buffer {
    return mqtt.generate(packet, this.genOpts);
  }

  /** Generate and send one packet with this client's protocol version. */
  send(packet: Packet): void {
    this.sendRaw(this.encode(packet));
  }

  /** Send bytes as they are. */
  sendRaw(bytes: Buffer | Uint8Array | readonly number[]): void {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes as Uint8Array);
    if (!this.stream.destroyed && this.stream.writable) this.stream.write(b);
  }

  /**
   * The next packet from the server. With `cmd`, the next packet must be of that type (a different
   * one fails the wait: packets are never skipped). Rejects on timeout or when the connection
   * closes first.
   */
  next<C extends Cmd>(cmd?: C, timeoutMs = DEFAULT_TIMEOUT, opts: { lenient?: boolean } = {}): Promise<Received<C>> {
    return new Promise((resolve, reject) => {
      const settle = (): boolean => {
        const p = this.queue.shift();
        if (p) {
          if (cmd && p.cmd !== cmd) reject(new Error(`expected ${cmd}, got ${describe(p)}`));
          else if (p.malformed && !opts.lenient) reject(new Error(`the server sent a packet mqtt-packet cannot parse: ${describe(p)}: ${p.malformed}`));
          else resolve(p as Received<C>);
          return true;
        }
        if (this.parseError) {
          reject(new Error(`server bytes could not be parsed: ${this.parseError.message}`));
          return true;
        }
        if (this.isClosed) {
          reject(new Error(`connection closed while waiting for ${cmd ?? 'a packet'}`));
          return true;
        }
        return false;
      };
      if (settle()) return;
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no ${cmd ?? 'packet'} within ${timeoutMs} ms${this.isClosed ? ' (connection closed)' : ''}`));
      }, timeoutMs);
      const waiter = (): boolean => {
        if (!settle()) return false;
        clearTimeout(timer);
        return true;
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves when the server closes the connection (FIN, RST or close); rejects on timeout. */
  closed(timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not close the connection within ${timeoutMs} ms (received: ${this.received.map(describe).join(', ') || 'nothing'})`)),
        timeoutMs,
      );
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Round trip a PINGREQ: resolves once the PINGRESP arrives, and fails if any other packet comes
   * first. Everything the server wrote before handling our PINGREQ has then been seen, which makes
   * "nothing else arrived" checks deterministic (no sleeping).
   */
  async barrier(timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    this.send({ cmd: 'pingreq' });
    await this.next('pingresp', timeoutMs);
  }

  /** Packets received and not consumed by `next()`. */
  get pending(): readonly Received[] {
    return this.queue;
  }

  /** Close from the client side without DISCONNECT (an abrupt network loss). */
  destroy(): void {
    live.delete(this);
    if (!this.stream.destroyed) this.stream.destroy();
    this.onClose();
  }

  // ------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const len = frameLength(this.buf);
      if (len === undefined || len > this.buf.length) break;
      if (len < 0) {
        this.parseError = new Error(`bad remaining length in ${this.buf.subarray(0, 8).toString('hex')}`);
        break;
      }
      const raw = Buffer.from(this.buf.subarray(0, len));
      this.buf = this.buf.subarray(len);
      const p = decode(raw, this.version);
      if (this.onPacket) {
        this.onPacket(p);
        continue;
      }
      this.received.push(p);
      this.queue.push(p);
    }
    this.notify();
  }

  private notify(): void {
    while (this.waiters.length > 0 && this.waiters[0]!()) this.waiters.shift();
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    live.delete(this);
    if (!this.stream.destroyed) this.stream.destroy();
    for (const w of this.closeWaiters.splice(0)) w();
    this.notify();
  }
}

const TYPES = ['reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'] as const;

/** Parse one whole frame with a fresh mqtt-packet parser; best effort when it refuses. */
export function decode(raw: Buffer, version: number): Received {
  const parser = mqtt.parser({ protocolVersion: version });
  let got: Packet | undefined;
  let error: Error | undefined;
  parser.on('packet', (p: Packet) => (got ??= p));
  parser.on('error', (e: Error) => (error ??= e));
  parser.parse(raw);
  if (got && !error) return Object.assign(got, { raw }) as Received;
  const cmd = TYPES[raw[0]! >> 4]!;
  const body = raw.subarray(1 + varintBytes(raw));
  const p: Record<string, unknown> = { cmd, raw, malformed: error?.message ?? 'no packet' };
  if (cmd === 'disconnect' || cmd === 'auth') p.reasonCode = body.length > 0 ? body[0] : 0;
  else if (cmd === 'connack') {
    p.sessionPresent = (body[0] ?? 0) & 1;
    p.reasonCode = p.returnCode = body[1];
  } else if (cmd === 'puback' || cmd === 'pubrec' || cmd === 'pubrel' || cmd === 'pubcomp') {
    p.messageId = body.length >= 2 ? body.readUInt16BE(0) : undefined;
    p.reasonCode = body.length > 2 ? body[2] : 0;
  }
  return p as unknown as Received;
}

/** How many bytes the remaining length of a frame takes. */
function varintBytes(b: Buffer): number {
  let n = 1;
  while (n < 4 && (b[n]! & 0x80) !== 0) n++;
  return n;
}

/** Total frame length from the fixed header, undefined if incomplete, -1 if invalid. */
export function frameLength(b: Buffer): number | undefined {
  if (b.length < 2) return undefined;
  let value = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= b.length) return undefined;
    const byte = b[i]!;
    value += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return 1 + i + value;
    mul *= 128;
  }
  return -1;
}

/** A short description of a packet for failure messages. */
export function describe(p: Packet & { raw?: Buffer }): string {
  const code = (p as { reasonCode?: number; returnCode?: number }).reasonCode ?? (p as { returnCode?: number }).returnCode;
  const id = (p as { messageId?: number }).messageId;
  return `${p.cmd}${id !== undefined ? ` id=${id}` : ''}${code !== undefined ? ` code=0x${code.toString(16)}` : ''}${p.raw ? ` [${p.raw.subarray(0, 24).toString('hex')}]` : ''}`;
}

/** Variable byte integer encoding (MQTT 5.0 §1.5.5). */
export function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** A UTF-8 encoded string with its two-byte length (§1.5.4). */
export function str(s: string | Buffer): number[] {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return [b.length >> 8, b.length & 0xff, ...b];
}

/** A whole frame: first byte, remaining length, body. */
export function frame(first: number, body: readonly number[]): Buffer {
  return Buffer.from([first, ...varint(body.length), ...body]);
}

/** Poll `cond` until it holds; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = DEFAULT_TIMEOUT, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Unique client ids per test run. */
let seq = 0;
export function uid(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

export type { IConnackPacket };
