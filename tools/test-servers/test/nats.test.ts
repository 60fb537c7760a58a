/**
 * startNatsCluster: a plain JetStream cluster, and a mixed-mode one where the last servers run
 * without JetStream yet answer JetStream API requests through their routes.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsCluster, type NatsCluster, type NatsServer } from '../src/index.js';

/**
 * One request over the NATS text protocol (no client library): subscribe to an inbox, publish
 * `subject` with that reply subject, resolve with the first reply's payload.
 */
function request(server: NatsServer, subject: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(server.port, '127.0.0.1');
    let buf = '';
    let sent = false;
    const done = (err: Error | undefined, body?: string) => {
      sock.destroy();
      if (err) reject(err);
      else resolve(body!);
    };
    sock.on('error', (err) => done(err));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('-ERR')) return done(new Error(buf));
      if (!sent && buf.startsWith('INFO')) {
        sent = true;
        sock.write('CONNECT {"verbose":false,"pedantic":false,"headers":false}\r\nSUB _INBOX.t 1\r\n' + `PUB ${subject} _INBOX.t 0\r\n\r\n`);
      }
      const m = /MSG _INBOX\.t 1 (\d+)\r\n/.exec(buf);
      if (m) {
        const start = m.index + m[0].length;
        const len = Number(m[1]);
        if (Buffer.byteLength(buf.slice(start)) >= len + 2) done(undefined, buf.slice(start, start + len));
      }
    });
  });
}

describe('startNatsCluster with servers without JetStream', () => {
  let nats: NatsCluster;
  beforeAll(async () => {
    nats = await startNatsCluster(3, { withoutJetStream: 1 });
  }, 60_000);
  afterAll(() => nats?.stop());

  it('starts the last servers without JetStream, joined to the others by routes', async () => {
    expect(nats.servers.map((s) => s.jetstream)).toEqual([true, true, false]);
    for (const s of nats.servers) {
      const jsz = (await (await fetch(`${s.monitorUrl}/jsz`)).json()) as { disabled?: boolean };
      expect(jsz.disabled ?? false).toBe(!s.jetstream);
      const routez = (await (await fetch(`${s.monitorUrl}/routez`)).json()) as { num_routes: number };
      expect(routez.num_routes).toBe(2);
    }
  });

  it('answers JetStream API requests made on the server without JetStream', async () => {
    const info = JSON.parse(await request(nats.servers[2]!, '$JS.API.INFO')) as { type?: string; error?: unknown };
    expect(info.type).toBe('io.nats.jetstream.api.v1.account_info_response');
    expect(info.error).toBeUndefined();
  });
});

describe('startNatsCluster options', () => {
  it('refuses a cluster without any JetStream server', async () => {
    await expect(startNatsCluster(2, { withoutJetStream: 2 })).rejects.toThrow(RangeError);
    await expect(startNatsCluster(2, { withoutJetStream: -1 })).rejects.toThrow(RangeError);
  });
});
