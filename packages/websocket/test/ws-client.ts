/**
 * A WebSocket client that shows what the wire carries: every message received (as a frame of
 * bytes), the MQTT packets parsed from them, and the close code. It sends exactly the frames a
 * test writes, text or binary, split or batched as the test wants.
 */
import { request } from 'node:http';
import { Waitable } from '@junction/mqtt/testing';
import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet';
import WebSocket from 'ws';

export class FrameClient extends Waitable {
  /** Binary messages received, one entry per WebSocket message. */
  readonly frames: Buffer[] = [];
  readonly packets: Packet[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private readonly parser: ReturnType<typeof mqttPacket.parser>;

  constructor(
    readonly ws: WebSocket,
    readonly version: 3 | 4 | 5 = 4,
  ) {
    super();
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      this.changed();
    });
    ws.on('message', (data: Buffer) => {
      this.frames.push(data);
      this.parser.parse(data);
      this.changed();
    });
    ws.on('error', () => {});
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.changed();
    });
  }

  /** One MQTT packet as one binary message. */
  send(packet: Packet): void {
    this.ws.send(mqttPacket.generate(packet, { protocolVersion: this.version }));
  }

  sendBinary(bytes: Buffer): void {
    this.ws.send(bytes, { binary: true });
  }

  /** Send CONNECT and wait for CONNACK. */
  async connect(clientId: string, over: Partial<IConnectPacket> = {}): Promise<Packet> {
    this.send(connectPacket(clientId, this.version, over));
    return this.next('connack');
  }

  next<C extends Packet['cmd']>(cmd: C, match: (p: Extract<Packet, { cmd: C }>) => boolean = () => true, timeoutMs = 3000): Promise<Extract<Packet, { cmd: C }>> {
    return this.until(() => this.packets.find((p): p is Extract<Packet, { cmd: C }> => p.cmd === cmd && match(p as Extract<Packet, { cmd: C }>)), `a ${cmd} packet`, timeoutMs);
  }

  /** Resolves with the close code once the connection is closed. */
  closed(timeoutMs = 3000): Promise<number> {
    return this.until(() => this.closeCode, 'the WebSocket to close', timeoutMs);
  }

  protected describe(): string {
    return `${this.frames.length} frame(s), packets [${this.packets.map((p) => p.cmd).join(', ')}]${this.closeCode !== undefined ? ` (closed ${this.closeCode})` : ''}`;
  }
}

export function connectPacket(clientId: string, version: 3 | 4 | 5 = 4, over: Partial<IConnectPacket> = {}): IConnectPacket {
  return { cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true, keepalive: 60, clientId, ...over } as IConnectPacket;
}

export function encode(packet: Packet, version: 3 | 4 | 5 = 4): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: version });
}

/** The outcome of a handshake: the open socket, or the HTTP status it was refused with. */
export type Handshake = { ok: true; ws: WebSocket; protocol: string; extensions: string } | { ok: false; status: number };

/** Attempt a WebSocket handshake; never throws for a refusal. */
export function handshake(url: string, protocols: string[] | undefined, opts: WebSocket.ClientOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = protocols === undefined ? new WebSocket(url, opts) : new WebSocket(url, protocols, opts);
    ws.once('open', () => resolve({ ok: true, ws, protocol: ws.protocol, extensions: ws.extensions }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve({ ok: false, status: res.statusCode ?? 0 });
    });
    ws.once('error', (err) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(err);
    });
  });
}

/** A plain HTTP GET (no upgrade): status and body. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Wait until `check()` holds, checking every 10 ms (for state with no event to wait on). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
