import type { EnhancedAuthenticator, EnhancedAuthStep } from '@junction/broker-core';
import mqtt, { type IAuthPacket, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpFixture, type BrokerHarness } from '../src/testing/index.js';

/** A toy challenge/response method: the server sends a nonce, the client answers it reversed. */
const reverseAuth: EnhancedAuthenticator = {
  method: 'X-REVERSE',
  async start(info): Promise<EnhancedAuthStep> {
    if (info.authData?.toString() !== 'hello') return { result: 'deny', reason: 'bad_credentials' };
    const nonce = 'abc123';
    return {
      result: 'continue',
      authData: Buffer.from(nonce),
      next: async (answer) =>
        answer?.toString() === [...nonce].reverse().join('')
          ? { result: 'allow', authData: Buffer.from('welcome') }
          : { result: 'deny', reason: 'not_authorized' },
    };
  },
};

let harness: BrokerHarness;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await harness?.stop();
});

function connect(first: string, answer: (challenge: string) => string) {
  const client = mqtt.connect(harness.url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { authenticationMethod: 'X-REVERSE', authenticationData: Buffer.from(first) },
  });
  clients.push(client);
  const challenges: string[] = [];
  client.handleAuth = (packet: IAuthPacket, cb) => {
    const challenge = packet.properties?.authenticationData?.toString() ?? '';
    challenges.push(challenge);
    cb(undefined, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'X-REVERSE', authenticationData: Buffer.from(answer(challenge)) } });
  };
  return { client, challenges };
}

describe('MQTT 5 enhanced authentication (§4.12)', () => {
  it('runs a challenge/response exchange in AUTH packets before CONNACK', async () => {
    harness = await tcpFixture.start();
    harness.broker.enhancedAuth.register(reverseAuth);
    const { client, challenges } = connect('hello', (c) => [...c].reverse().join(''));
    const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    expect(challenges).toEqual(['abc123']);
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.authenticationMethod).toBe('X-REVERSE');
    expect(connack.properties?.authenticationData?.toString()).toBe('welcome');
  });

  it('refuses a wrong answer with CONNACK 0x87 and bad initial data with 0x86', async () => {
    harness = await tcpFixture.start();
    harness.broker.enhancedAuth.register(reverseAuth);
    const wrong = connect('hello', () => 'nope');
    const err1 = await new Promise<{ code?: number }>((r) => wrong.client.once('error', r));
    expect(err1.code).toBe(0x87);
    const bad = connect('bye', () => '');
    const err2 = await new Promise<{ code?: number }>((r) => bad.client.once('error', r));
    expect(err2.code).toBe(0x86);
  });

  it('refuses an unknown method with CONNACK 0x8C', async () => {
    harness = await tcpFixture.start();
    const { client } = connect('hello', () => '');
    const err = await new Promise<{ code?: number }>((r) => client.once('error', r));
    expect(err.code).toBe(0x8c);
  });
});
