import { JunctionError, type ConnectInfo, type EnhancedAuthStep } from '@junction/broker-core';
import type { IAuthPacket, Packet } from 'mqtt-packet';
import { RC, reasonCodeFor } from '../../reason-codes.js';
import type { MqttConnection } from '../connection.js';

const CONTINUE = 0x18;
const REAUTHENTICATE = 0x19;

/** How long a client may take to answer one challenge. */
const STEP_TIMEOUT_MS = 10_000;

export type AuthOutcome = { ok: true; step: Extract<EnhancedAuthStep, { result: 'allow' }> } | { ok: false; code: number; reason: string };

/**
 * Run an enhanced authentication exchange (MQTT 5.0 §4.12): send AUTH 0x18 with each challenge,
 * feed the client's AUTH 0x18 answers to the authenticator, until it allows or denies.
 */
export async function exchange(c: MqttConnection, method: string, info: ConnectInfo): Promise<AuthOutcome> {
  const authenticator = c.ctx.broker.enhancedAuth.get(method);
  if (!authenticator) return { ok: false, code: RC.BAD_AUTHENTICATION_METHOD, reason: `unsupported authentication method ${method}` };
  let step = await authenticator.start(info);
  while (step.result === 'continue') {
    c.send({ cmd: 'auth', reasonCode: CONTINUE, properties: { authenticationMethod: method, authenticationData: step.authData } } as Packet);
    let answer: IAuthPacket;
    try {
      answer = await c.nextAuth(STEP_TIMEOUT_MS);
    } catch {
      return { ok: false, code: RC.NOT_AUTHORIZED, reason: 'authentication exchange timed out' };
    }
    // [MQTT-4.12.0-5] the method must not change during the exchange.
    if (answer.reasonCode !== CONTINUE || answer.properties?.authenticationMethod !== method) {
      return { ok: false, code: RC.PROTOCOL_ERROR, reason: 'unexpected AUTH packet during authentication' };
    }
    step = await step.next(answer.properties?.authenticationData);
  }
  if (step.result === 'deny') return { ok: false, code: reasonCodeFor(step.reason), reason: step.message ?? step.reason };
  return { ok: true, step };
}

/** AUTH after CONNECT (§3.15, §4.12.1): re-authentication with the same method. */
export async function handleAuth(c: MqttConnection, p: IAuthPacket): Promise<void> {
  const method = p.properties?.authenticationMethod;
  // [MQTT-4.12.0-6/7] AUTH needs a CONNECT with a method, and the same method.
  if (c.version !== 5 || c.authMethod === undefined || method !== c.authMethod || p.reasonCode !== REAUTHENTICATE) {
    return c.protocolError('AUTH without an enhanced authentication in progress');
  }
  const info: ConnectInfo = {
    clientId: c.clientId,
    username: c.username,
    protocol: 'mqtt',
    protocolVersion: 5,
    peer: c.transport.peer,
    listener: c.ctx.listener,
    cleanStart: false,
    keepalive: 0,
    authMethod: method,
    authData: p.properties?.authenticationData,
  };
  let outcome: AuthOutcome;
  try {
    outcome = await exchange(c, method, info);
  } catch (err) {
    if (!(err instanceof JunctionError)) throw err;
    outcome = { ok: false, code: reasonCodeFor(err.code), reason: err.message };
  }
  if (!outcome.ok) return c.disconnect(outcome.code, outcome.reason, 'not_authorized');
  c.send({ cmd: 'auth', reasonCode: RC.SUCCESS, properties: { authenticationMethod: method, authenticationData: outcome.step.authData } } as Packet);
}
