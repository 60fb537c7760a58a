/**
 * The UDP socket of one listener: the only place the CoAP gateway binds sockets. IPv4 or IPv6
 * by the bind address (`::` also takes IPv4 on dual-stack hosts). Counts datagrams and bytes
 * both ways into the broker's shared counters, whoever writes to the socket.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { BindAddress, Metrics } from '@junction/broker-core';

/** Where a datagram came from, or goes to. */
export interface Peer {
  readonly address: string;
  readonly port: number;
  /** `host:port`, or `[v6]:port`: the form `ConnectInfo.peer` uses. */
  readonly key: string;
}

export function peerOf(r: { address: string; port: number }): Peer {
  return { address: r.address, port: r.port, key: isIPv6(r.address) ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}` };
}

export interface UdpOptions {
  readonly bind: BindAddress;
  readonly reuseaddr: boolean;
  readonly recbuf?: number;
  readonly sndbuf?: number;
}

export class UdpTransport {
  /** The bound socket; node-coap's exchange layer writes its responses straight to it. */
  readonly socket: Socket;
  private onDatagram: (data: Buffer, from: Peer, rinfo: RemoteInfo) => void = () => {};

  constructor(
    private readonly opts: UdpOptions,
    private readonly metrics: Metrics,
    onError: (err: Error) => void,
  ) {
    const host = opts.bind.host;
    this.socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: opts.reuseaddr });
    const send = this.socket.send.bind(this.socket) as (...args: unknown[]) => void;
    // Every datagram sent, node-coap's responses included, is counted; and a send on a socket
    // already closed (a timer of node-coap's, at shutdown) is dropped instead of throwing.
    (this.socket as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
      const msg = args[0];
      try {
        send(...args);
      } catch (err) {
        onError(err as Error);
        return;
      }
      metrics.counters['packets.sent']++;
      metrics.counters['bytes.sent'] += Buffer.isBuffer(msg) ? (typeof args[1] === 'number' && typeof args[2] === 'number' ? args[2] : msg.length) : 0;
    };
    this.socket.on('error', onError);
  }

  /** Binds; resolves with the real port (port 0 picks a free one). */
  async start(onDatagram: (data: Buffer, from: Peer, rinfo: RemoteInfo) => void): Promise<{ host: string; port: number }> {
    this.onDatagram = onDatagram;
    const socket = this.socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.bind.port, this.opts.bind.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (this.opts.recbuf !== undefined) socket.setRecvBufferSize(this.opts.recbuf);
    if (this.opts.sndbuf !== undefined) socket.setSendBufferSize(this.opts.sndbuf);
    socket.on('message', (data, rinfo) => {
      this.metrics.counters['packets.received']++;
      this.metrics.counters['bytes.received'] += data.length;
      this.onDatagram(data, peerOf(rinfo), rinfo);
    });
    return { host: this.opts.bind.host, port: socket.address().port };
  }

  send(data: Buffer, to: Peer): void {
    this.socket.send(data, to.port, to.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or already closed
      }
    });
  }
}
