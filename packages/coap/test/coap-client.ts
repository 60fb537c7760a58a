/**
 * The node-coap client (its Agent), wrapped in promises for the tests. The agent gets a socket of
 * its own, so all requests of one test client come from one port (one peer, for the gateway).
 */
import { createSocket } from 'node:dgram';
import { Agent, request, type IncomingMessage, type ObserveReadStream, type OutgoingMessage } from 'coap';

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: string;
  payload?: Buffer | string;
  confirmable?: boolean;
  observe?: 0 | 1;
  token?: Buffer;
  options?: Record<string, string | number | Buffer>;
}

export interface Response {
  readonly code: string;
  readonly payload: Buffer;
  readonly headers: Record<string, unknown>;
}

export interface Observation {
  readonly response: Response;
  readonly stream: ObserveReadStream;
  /** Notifications received so far (the registration response not included). */
  readonly notifications: Buffer[];
  next(timeoutMs?: number): Promise<Buffer>;
  close(): void;
}

export class CoapTestClient {
  readonly socket = createSocket('udp4');
  readonly agent = new Agent({ socket: this.socket });

  constructor(readonly port: number) {}

  private send(o: RequestOptions): OutgoingMessage {
    const req = request({
      hostname: '127.0.0.1',
      port: this.port,
      method: o.method ?? 'GET',
      pathname: o.path,
      query: o.query,
      confirmable: o.confirmable ?? true,
      observe: o.observe,
      token: o.token,
      agent: this.agent,
      options: o.options as never,
    });
    return req;
  }

  request(o: RequestOptions, timeoutMs = 5000): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = this.send(o);
      const t = setTimeout(() => reject(new Error(`no response to ${o.method ?? 'GET'} ${o.path}`)), timeoutMs);
      req.on('response', (res: IncomingMessage) => {
        clearTimeout(t);
        resolve({ code: res.code, payload: res.payload, headers: res.headers as Record<string, unknown> });
      });
      req.on('error', (err: Error) => {
        clearTimeout(t);
        reject(err);
      });
      req.end(o.payload);
    });
  }

  observe(o: Omit<RequestOptions, 'observe' | 'method'>, timeoutMs = 5000): Promise<Observation> {
    return new Promise((resolve, reject) => {
      const req = this.send({ ...o, method: 'GET', observe: 0 });
      const t = setTimeout(() => reject(new Error(`no response to GET ${o.path} with Observe`)), timeoutMs);
      req.on('error', reject);
      req.on('response', (res: ObserveReadStream) => {
        clearTimeout(t);
        const notifications: Buffer[] = [];
        const waiters: (() => void)[] = [];
        let first = true;
        let taken = 0;
        res.on('data', (chunk: Buffer) => {
          // The stream starts with the registration response's payload.
          if (first) {
            first = false;
            return;
          }
          notifications.push(chunk);
          for (const w of waiters.splice(0)) w();
        });
        res.on('error', () => {});
        resolve({
          response: { code: res.code, payload: res.payload, headers: res.headers as Record<string, unknown> },
          stream: res,
          notifications,
          next(ms = 3000) {
            return new Promise((ok, fail) => {
              const timer = setTimeout(() => fail(new Error(`no notification within ${ms} ms (got ${notifications.length})`)), ms);
              const check = () => {
                if (notifications.length > taken) {
                  clearTimeout(timer);
                  ok(notifications[taken++]!);
                } else waiters.push(check);
              };
              check();
            });
          },
          close: () => res.close(),
        });
      });
      req.end();
    });
  }

  /** Stops retransmissions of requests still waiting and closes the socket. */
  close(): Promise<void> {
    for (const req of [...this.agent._msgIdToReq.values(), ...this.agent._tkToReq.values()]) req.sender?.reset();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
