import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { BindAddress, ListenerInfo, Logger } from '@junction/broker-core';

export interface UdpSocketOptions {
  readonly reuseaddr: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes; 0 keeps the system default. */
  readonly recbuf: number;
  readonly sndbuf: number;
}

/** What a UDP listener hands its datagrams to. */
export interface DatagramHandler {
  receive(host: string, port: number, data: Buffer): void;
}

function socketType(host: string): SocketType {
  return isIPv6(host) ? 'udp6' : 'udp4';
}

/**
 * One bound UDP socket, IPv4 or IPv6 by the bind address: every datagram goes to the handler,
 * `send` writes one back. The only module that touches `node:dgram`.
 */
export class UdpListener {
  private socket: Socket | undefined;
  private info: ListenerInfo | undefined;

  constructor(
    private readonly name: string,
    private readonly bind: BindAddress,
    private readonly options: UdpSocketOptions,
    private readonly log: Logger,
  ) {}

  async start(handler: DatagramHandler): Promise<ListenerInfo> {
    const socket = createSocket({
      type: socketType(this.bind.host),
      reuseAddr: this.options.reuseaddr,
      recvBufferSize: this.options.recbuf || undefined,
      sendBufferSize: this.options.sndbuf || undefined,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.bind.port, this.bind.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.log.warn({ err }, 'udp_socket_error'));
    socket.on('message', (data, rinfo) => handler.receive(rinfo.address, rinfo.port, data));
    this.socket = socket;
    this.info = { type: 'udp', name: this.name, host: this.bind.host, port: socket.address().port };
    this.log.info({ host: this.info.host, port: this.info.port }, 'listener_started');
    return this.info;
  }

  get port(): number {
    return this.info?.port ?? this.bind.port;
  }

  send(host: string, port: number, data: Buffer): void {
    this.socket?.send(data, port, host, (err) => {
      if (err) this.log.debug({ err: err.message, host, port }, 'udp_send_failed');
    });
  }

  /** Send one datagram to broadcast addresses (ADVERTISE, §6.1). */
  broadcast(data: Buffer, targets: readonly BindAddress[]): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      socket.setBroadcast(true);
    } catch (err) {
      this.log.warn({ err }, 'udp_broadcast_unavailable');
      return;
    }
    for (const t of targets) this.send(t.host, t.port, data);
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.log.info({}, 'listener_stopped');
  }
}

/** The broadcast address of every IPv4 interface that has one (EMQX's ADVERTISE targets). */
export function interfaceBroadcastAddresses(): string[] {
  const out = new Set<string>();
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const ip = a.address.split('.').map(Number);
      const mask = a.netmask.split('.').map(Number);
      out.add(ip.map((b, i) => (b | (~mask[i]! & 0xff)) & 0xff).join('.'));
    }
  }
  return [...out];
}

/** A client-side UDP socket (for the test client and tools): bound to a free port. */
export interface UdpEndpoint {
  readonly port: number;
  send(data: Buffer, host: string, port: number): void;
  onMessage(fn: (data: Buffer, host: string, port: number) => void): void;
  close(): Promise<void>;
}

export async function openUdpEndpoint(host = '127.0.0.1', port = 0): Promise<UdpEndpoint> {
  const socket = createSocket(socketType(host));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {});
  let closed = false;
  return {
    port: socket.address().port,
    send: (data, toHost, toPort) => {
      if (!closed) socket.send(data, toPort, toHost);
    },
    onMessage: (fn) => socket.on('message', (data, rinfo) => fn(data, rinfo.address, rinfo.port)),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}
