/**
 * What well-behaved clients never send: malformed datagrams are rejected with RST when
 * confirmable and otherwise ignored (RFC 7252 §4.2, §4.3); unknown paths, methods and critical
 * options get 4.04, 4.05 and 4.02; random bytes never disturb the gateway.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../src/message/frame.js';
import { Option } from '../src/message/options.js';
import { CoapTestClient } from './coap-client.js';
import { collect, startGateway, type Running } from './harness.js';
import { codeOf, RawClient } from './raw-client.js';

let gw: Running;
let raw: RawClient;
beforeAll(async () => {
  gw = await startGateway();
  raw = await RawClient.open(gw.port);
});
afterAll(async () => {
  raw.close();
  await gw.stop();
});

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('malformed datagrams', () => {
  it.each([
    ['a token length of 9', '49 01 1001 000000000000000000'],
    ['a truncated token', '48 01 1002 0000'],
    ['an option delta of 15', '40 01 1003 f0'],
    ['an option length of 15', '40 01 1004 bf'],
    ['a truncated option', '40 01 1005 b9 7073'],
    ['a payload marker without payload', '40 02 1006 b2 7073 ff'],
    ['a reserved code class', '40 20 1007'],
    ['an empty message with a token', '41 00 1008 aa'],
  ])('rejects a CON with %s with RST carrying its Message ID', async (_what, bytes) => {
    const datagram = hex(bytes);
    raw.sendBytes(datagram);
    const r = (await raw.next()).message;
    expect([r.type, r.code, r.messageId, r.token.length, r.payload.length]).toEqual(['RST', 0, datagram.readUInt16BE(2), 0, 0]);
  });

  it('ignores malformed NON messages, other versions and runt datagrams', async () => {
    for (const bytes of ['59 01 2001 000000000000000000', '50 01 2002 f0', '80 01 2003', '40 01', '']) raw.sendBytes(hex(bytes));
    await raw.nothing(200);
  });

  it('answers an empty CON (a CoAP ping, §4.3) with RST and ignores a stray ACK or RST', async () => {
    raw.sendBytes(hex('40 00 3001'));
    const r = (await raw.next()).message;
    expect([r.type, r.messageId]).toEqual(['RST', 0x3001]);
    raw.sendBytes(hex('60 00 3002'));
    raw.sendBytes(hex('70 00 3003'));
    await raw.nothing(150);
  });

  it('rejects a confirmable response with RST (the gateway sends no requests)', async () => {
    raw.sendBytes(encode({ type: 'CON', code: 0x45, messageId: 0x3004, token: Buffer.from('t') }));
    expect((await raw.next()).message).toMatchObject({ type: 'RST', messageId: 0x3004 });
  });
});

describe('unknown paths, methods and options', () => {
  const ask = async (code: string, path: string, extra: Parameters<RawClient['send']>[0] = {}) => {
    const m = await raw.response(raw.send({ code, path, token: Buffer.from('u'), ...extra }));
    return codeOf(m);
  };

  it('answers 4.04 for paths other than /ps/... and /mqtt/connection', async () => {
    expect(await ask('0.02', 'nope')).toBe('4.04');
    expect(await ask('0.01', '')).toBe('4.04');
    expect(await ask('0.02', 'mqtt/other')).toBe('4.04');
    expect(await ask('0.02', 'PS/a')).toBe('4.04');
  });

  it('answers 4.05 for methods a resource does not serve, and for FETCH, PATCH and iPATCH', async () => {
    expect(await ask('0.04', 'ps/a')).toBe('4.05');
    expect(await ask('0.01', 'mqtt/connection')).toBe('4.05');
    for (const code of ['0.05', '0.06', '0.07', '0.31']) expect(await ask(code, 'ps/a')).toBe('4.05');
  });

  it('answers 4.02 for an unknown critical option, a repeated one, or If-None-Match with a value; ignores unknown elective ones', async () => {
    expect(await ask('0.02', 'ps/opt', { options: [{ number: 9, value: Buffer.from('x') }] })).toBe('4.02');
    expect(await ask('0.02', 'ps/opt', { options: [{ number: 2049, value: Buffer.alloc(0) }] })).toBe('4.02');
    expect(await ask('0.02', 'ps/opt', { options: [{ number: Option.URI_HOST, value: Buffer.from('a') }, { number: Option.URI_HOST, value: Buffer.from('b') }] })).toBe('4.02');
    expect(await ask('0.02', 'ps/opt', { options: [{ number: Option.IF_NONE_MATCH, value: Buffer.from('x') }] })).toBe('4.02');
    expect(await ask('0.02', 'ps/opt', { options: [{ number: 2048, value: Buffer.from('x') }, { number: Option.URI_HOST, value: Buffer.from('h') }, { number: Option.URI_PORT, value: Buffer.of(1) }] })).toBe('2.04');
  });
});

describe('random input', () => {
  it('survives random and mutated datagrams and keeps serving other clients', async () => {
    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('fuzz/ok');
    const valid = [
      encode({ type: 'CON', code: 2, messageId: 1, token: Buffer.from('ab'), options: [{ number: 11, value: Buffer.from('ps') }, { number: 11, value: Buffer.from('f') }], payload: Buffer.from('x') }),
      encode({ type: 'CON', code: 1, messageId: 2, token: Buffer.from('cd'), options: [{ number: 6, value: Buffer.alloc(0) }, { number: 11, value: Buffer.from('ps') }, { number: 11, value: Buffer.from('f') }] }),
      encode({ type: 'NON', code: 3, messageId: 3, options: [{ number: 11, value: Buffer.from('mqtt') }, { number: 11, value: Buffer.from('connection') }, { number: 15, value: Buffer.from('c=f') }, { number: 27, value: Buffer.of(0x0a) }], payload: Buffer.alloc(64) }),
    ];
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.nat(80)).map(([v, flips, cut]) => {
      const b = Buffer.from(v);
      for (const [i, byte] of flips) b[i % b.length] = byte;
      return b.subarray(0, Math.max(1, b.length - (cut % 4 === 0 ? cut % b.length : 0)));
    });
    const inputs = fc.sample(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a))), { numRuns: 3000, seed: 0x636f6170 });
    const fuzzers = await Promise.all([RawClient.open(gw.port), RawClient.open(gw.port)]);
    try {
      inputs.forEach((d, i) => fuzzers[i % 2]!.sendBytes(d));
      for (let i = 0; i < 200; i++) fuzzers[0]!.sendBytes(randomBytes(1 + (i % 300)));
      const c = new CoapTestClient(gw.port);
      try {
        expect((await c.request({ method: 'POST', path: '/ps/fuzz/ok', payload: 'still fine' })).code).toBe('2.04');
      } finally {
        await c.close();
      }
      expect((await got.next()).payload.toString()).toBe('still fine');
    } finally {
      for (const f of fuzzers) f.close();
    }
    expect(gw.gateway.stats().malformed).toBeGreaterThan(0);
  });
});
