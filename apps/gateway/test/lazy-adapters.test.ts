import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startGateway } from './run-gateway.js';

/** An OCPP-J WebSocket handshake by hand: resolves with the status and the chosen subprotocol. */
function handshake(port: number, path: string, protocol: string): Promise<{ status: number; protocol: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': protocol },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, protocol: res.headers['sec-websocket-protocol'] as string | undefined });
    });
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, protocol: undefined }));
    req.on('error', reject);
    req.end();
  });
}

describe('adapters loaded on demand (OCPP, QUIC, WebTransport)', () => {
  it('a configured OCPP gateway is loaded and serves charge points', async () => {
    const gw = await startGateway('log: { format: json }\nlisteners: { tcp: { default: { bind: "127.0.0.1:0" } } }\ngateway: { ocpp: { listeners: { ws: { default: { bind: "127.0.0.1:0" } } } } }\n');
    const started = gw.lines.find((l) => l.msg === 'gateway_started') as { listeners: { type: string; port: number }[] };
    // The OCPP gateway's WebSocket listener (no MQTT WebSocket listener is configured).
    const ocpp = started.listeners.find((l) => l.type === 'ws');
    expect(ocpp, JSON.stringify(started.listeners)).toBeDefined();
    expect(await handshake(ocpp!.port, '/ocpp/CP-lazy-1', 'ocpp1.6')).toEqual({ status: 101, protocol: 'ocpp1.6' });
    gw.child.kill('SIGTERM');
    await gw.exit;
  });

  it('a gateway without them starts with its MQTT listener only', async () => {
    const gw = await startGateway('log: { format: json }\nlisteners: { tcp: { default: { bind: "127.0.0.1:0" } } }\n');
    const started = gw.lines.find((l) => l.msg === 'gateway_started') as { listeners: { type: string }[] };
    expect(started.listeners.map((l) => l.type)).toEqual(['tcp']);
    gw.child.kill('SIGTERM');
    await gw.exit;
  });
});
