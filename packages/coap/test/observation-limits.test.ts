/**
 * `max_observations_per_client` and `max_observations`: a registration over a limit is answered
 * as a plain GET, 2.05 without Observe (RFC 7641 §4.1), and subscribes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGateway, type Running } from './harness.js';
import { codeOf, observeOf, RawClient } from './raw-client.js';

let gw: Running;
let a: RawClient;
let b: RawClient;
beforeAll(async () => {
  gw = await startGateway({ coap: { max_observations_per_client: 2, max_observations: 3 } });
  a = await RawClient.open(gw.port);
  b = await RawClient.open(gw.port);
});
afterAll(async () => {
  a.close();
  b.close();
  await gw.stop();
});

const register = async (c: RawClient, topic: string, id: string) => {
  const r = await c.response(c.send({ path: `ps/${topic}`, observe: 0, token: Buffer.from(topic), query: [`c=${id}`] }));
  return `${codeOf(r)} ${observeOf(r) === undefined ? 'no-observe' : 'observe'}`;
};

it('bounds the observations of one client', async () => {
  expect(await register(a, 'l/1', 'lim-a')).toBe('2.05 observe');
  expect(await register(a, 'l/2', 'lim-a')).toBe('2.05 observe');
  expect(await register(a, 'l/3', 'lim-a')).toBe('2.05 no-observe');
  // Registering an observed topic again is not a new observation.
  expect(await register(a, 'l/2', 'lim-a')).toBe('2.05 observe');
  expect(gw.broker.session('lim-a')?.subscriptions.sort()).toEqual(['l/1', 'l/2']);
  const mqtt = await gw.mqtt();
  await mqtt.publishAsync('l/3', 'x');
  await a.nothing(150, (m) => m.code !== 0);
});

it('bounds the observations of all clients together, and frees a place on deregistration', async () => {
  expect(await register(b, 'l/4', 'lim-b')).toBe('2.05 observe');
  expect(await register(b, 'l/5', 'lim-b')).toBe('2.05 no-observe');
  expect(gw.gateway.stats().observations).toBe(3);
  const r = await a.response(a.send({ path: 'ps/l/1', observe: 1, token: Buffer.from('l/1'), query: ['c=lim-a'] }));
  expect(codeOf(r)).toBe('2.07');
  expect(await register(b, 'l/5', 'lim-b')).toBe('2.05 observe');
  expect(gw.gateway.stats().observations).toBe(3);
});
