/**
 * Block-wise transfer (RFC 7959): large publishes arrive in Block1 blocks and reach MQTT whole;
 * large messages leave as notifications whose first block carries Block2, the rest fetched with
 * GET; bodies over `max_body_size` get 4.13, blocks out of order 4.08.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock } from '../src/message/block.js';
import { decodeUint, encodeUint, getOption, Option } from '../src/message/options.js';
import { CoapTestClient } from './coap-client.js';
import { collect, startGateway, type Running } from './harness.js';
import { codeOf, RawClient } from './raw-client.js';

let gw: Running;
let closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await gw?.stop();
});

async function raw(): Promise<RawClient> {
  const r = await RawClient.open(gw.port);
  closers.push(() => r.close());
  return r;
}

function client(): CoapTestClient {
  const c = new CoapTestClient(gw.port);
  closers.push(() => c.close());
  return c;
}

const block1 = (num: number, more: boolean, size: number) => ({ number: Option.BLOCK1, value: encodeBlock({ num, more, size }) });

describe('Block1: large requests', () => {
  it('reassembles a publish sent by node-coap in 64-byte blocks', async () => {
    gw = await startGateway();
    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('bw/in');
    const body = randomBytes(5000);
    const r = await client().request({ method: 'POST', path: '/ps/bw/in', payload: body, options: { Block1: Buffer.of(2) } });
    expect(r.code).toBe('2.04');
    const m = await got.next();
    expect(m.payload.equals(body)).toBe(true);
  });

  it('answers 2.31 Continue per block and asks for max_block_size when the client offers more (§2.5)', async () => {
    gw = await startGateway({ coap: { blockwise: { max_block_size: 256 } } });
    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('bw/neg');
    const r = await raw();
    const body = randomBytes(1800);
    const t = Buffer.from('b1');
    // The first block offers 1024 bytes; the gateway wants 256: the client continues at num 4.
    const first = await r.response(r.send({ code: '0.02', path: 'ps/bw/neg', token: t, options: [block1(0, true, 1024)], payload: body.subarray(0, 1024) }));
    expect(codeOf(first)).toBe('2.31');
    expect(decodeBlock(getOption(first.options, Option.BLOCK1)!)).toEqual({ num: 0, more: true, size: 256 });
    let offset = 1024;
    for (let num = 4; offset < body.length; num++) {
      const chunk = body.subarray(offset, offset + 256);
      offset += chunk.length;
      const more = offset < body.length;
      const res = await r.response(r.send({ code: '0.02', path: 'ps/bw/neg', token: Buffer.from([num]), options: [block1(num, more, 256)], payload: chunk }));
      expect(codeOf(res)).toBe(more ? '2.31' : '2.04');
      if (!more) expect(decodeBlock(getOption(res.options, Option.BLOCK1)!)).toEqual({ num, more: false, size: 256 });
    }
    expect((await got.next()).payload.equals(body)).toBe(true);
  });

  it('answers 4.13 with Size1 over max_body_size, announced (Size1) or reached', async () => {
    gw = await startGateway({ coap: { blockwise: { max_body_size: 1000 } } });
    const r = await raw();
    const announced = await r.response(r.send({ code: '0.02', path: 'ps/bw/big', options: [block1(0, true, 512), { number: Option.SIZE1, value: encodeUint(5000) }], payload: Buffer.alloc(512) }));
    expect(codeOf(announced)).toBe('4.13');
    expect(decodeUint(getOption(announced.options, Option.SIZE1)!)).toBe(1000);
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/big', options: [block1(0, true, 512)], payload: Buffer.alloc(512) })))).toBe('2.31');
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/big', options: [block1(1, true, 512)], payload: Buffer.alloc(512) })))).toBe('4.13');
    const whole = await r.response(r.send({ code: '0.02', path: 'ps/bw/big', payload: Buffer.alloc(1001) }));
    expect(codeOf(whole)).toBe('4.13');
  });

  it('answers 4.08 for a block out of order or without its first block', async () => {
    gw = await startGateway();
    const r = await raw();
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/gap', options: [block1(3, true, 64)], payload: Buffer.alloc(64) })))).toBe('4.08');
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/gap', options: [block1(0, true, 64)], payload: Buffer.alloc(64) })))).toBe('2.31');
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/gap', options: [block1(2, false, 64)], payload: Buffer.alloc(10) })))).toBe('4.08');
  });

  it('answers a retransmitted block again without taking it twice', async () => {
    gw = await startGateway();
    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('bw/re');
    const r = await raw();
    const b0 = { code: '0.02', messageId: 7000, path: 'ps/bw/re', options: [block1(0, true, 16)], payload: Buffer.from('0123456789abcdef') } as const;
    expect(codeOf(await r.response(r.send(b0)))).toBe('2.31');
    expect(codeOf(await r.response(r.send(b0)))).toBe('2.31');
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/re', options: [block1(1, false, 16)], payload: Buffer.from('end') })))).toBe('2.04');
    expect((await got.next()).payload.toString()).toBe('0123456789abcdefend');
  });

  it('answers 4.02 to Block1 when block-wise transfer is disabled, and 4.00 to a reserved SZX', async () => {
    gw = await startGateway({ coap: { blockwise: { enable: false } } });
    const r = await raw();
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/off', options: [block1(0, true, 64)], payload: Buffer.alloc(64) })))).toBe('4.02');
    expect(codeOf(await r.response(r.send({ code: '0.02', path: 'ps/bw/off', options: [{ number: Option.BLOCK1, value: Buffer.of(0x0f) }], payload: Buffer.alloc(8) })))).toBe('4.00');
  });
});

describe('Block2: large notifications', () => {
  it('sends the first block with Block2, Size2 and ETag, and serves the others to GET (RFC 7959 §3.4)', async () => {
    gw = await startGateway({ coap: { blockwise: { max_block_size: 128 } } });
    const r = await raw();
    const t = Buffer.from('lg');
    await r.response(r.send({ path: 'ps/bw/out', observe: 0, token: t }));
    const body = randomBytes(300);
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('bw/out', body, { qos: 0, properties: { contentType: 'application/cbor' } });
    const first = (await r.next((m) => m.code !== 0)).message;
    expect(decodeBlock(getOption(first.options, Option.BLOCK2)!)).toEqual({ num: 0, more: true, size: 128 });
    expect(decodeUint(getOption(first.options, Option.SIZE2)!)).toBe(300);
    const etag = getOption(first.options, Option.ETAG)!;
    const parts = [first.payload];
    for (let num = 1; num < 3; num++) {
      const res = await r.response(r.send({ path: 'ps/bw/out', token: t, options: [{ number: Option.BLOCK2, value: encodeBlock({ num, more: false, size: 128 }) }] }));
      expect(codeOf(res)).toBe('2.05');
      expect(decodeBlock(getOption(res.options, Option.BLOCK2)!)).toEqual({ num, more: num < 2, size: 128 });
      expect(getOption(res.options, Option.ETAG)).toEqual(etag);
      expect(decodeUint(getOption(res.options, Option.CONTENT_FORMAT)!)).toBe(60);
      parts.push(res.payload);
    }
    expect(Buffer.concat(parts).equals(body)).toBe(true);
  });

  it('uses the smaller block size a registration asks for with Block2 (§2.4)', async () => {
    gw = await startGateway();
    const r = await raw();
    await r.response(r.send({ path: 'ps/bw/small', observe: 0, token: Buffer.from('sm'), options: [{ number: Option.BLOCK2, value: encodeBlock({ num: 0, more: false, size: 32 }) }] }));
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('bw/small', Buffer.alloc(100, 1));
    const first = (await r.next((m) => m.code !== 0)).message;
    expect(decodeBlock(getOption(first.options, Option.BLOCK2)!)).toEqual({ num: 0, more: true, size: 32 });
    expect(first.payload.length).toBe(32);
  });

  it('delivers a large MQTT message whole to a node-coap observer', async () => {
    gw = await startGateway({ coap: { blockwise: { max_block_size: 256 } } });
    const obs = await client().observe({ path: '/ps/bw/agent' });
    const mqtt = await gw.mqtt();
    const body = randomBytes(3000);
    await mqtt.publishAsync('bw/agent', body, { qos: 1 });
    expect((await obs.next()).equals(body)).toBe(true);
    await mqtt.publishAsync('bw/agent', 'small again', { qos: 1 });
    expect((await obs.next()).toString()).toBe('small again');
    obs.close();
  });

  it('answers 4.00 to a block request with no large notification to continue', async () => {
    gw = await startGateway();
    const r = await raw();
    const res = await r.response(r.send({ path: 'ps/bw/none', token: Buffer.from('x'), options: [{ number: Option.BLOCK2, value: encodeBlock({ num: 1, more: false, size: 64 }) }] }));
    expect([codeOf(res), res.payload.toString()]).toEqual(['4.00', 'no notification to continue']);
  });
});
