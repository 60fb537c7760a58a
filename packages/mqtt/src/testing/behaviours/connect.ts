/**
 * CONNECT / CONNACK: session present, client identifiers, the MQTT 5 CONNACK properties, and the
 * first-packet and second-CONNECT rules.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { emptyClientIdConnect } from '../raw-client.js';
import { codeOf, uid, useScope, type ProtocolVersion } from './helpers.js';

export function connectBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('connect', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    // MQTT 5.0 [MQTT-3.2.2-2] / 3.1.1 [MQTT-3.2.2-1]
    it('answers CONNACK success with session present 0 for a clean start [MQTT-3.2.2-2]', async () => {
      const c = await s.connect({ clean: true });
      expect(c.connack!.sessionPresent).toBe(false);
      expect(codeOf(c.connack)).toBe(0);
      expect(c.connack!.cmd).toBe('connack');
    });

    // MQTT 5.0 [MQTT-3.2.2-3] / 3.1.1 [MQTT-3.2.2-2]; no stored state: 5.0 [MQTT-3.2.2-4] / 3.1.1 [MQTT-3.2.2-3]
    // (MQTT 3.1 has no Session Present flag: that byte is reserved.)
    if (version !== 3) it('sets session present 1 when a stored session resumes, 0 when there was none [MQTT-3.2.2-3]', async () => {
      const clientId = uid('sp');
      const first = await s.connect({ clientId, ...s.persistent() });
      expect(first.connack!.sessionPresent).toBe(false);
      await first.disconnect();
      const second = await s.connect({ clientId, ...s.persistent() });
      expect(second.connack!.sessionPresent).toBe(true);
      expect(codeOf(second.connack)).toBe(0);
      await second.disconnect();
      // Clean start discards it: session present 0 again.
      const third = await s.connect({ clientId, clean: true });
      expect(third.connack!.sessionPresent).toBe(false);
    });

    if (v5) {
      it('assigns a client identifier for an empty one and reports it in CONNACK [MQTT-3.2.2-16]', async () => {
        const c = await s.connect({ clientId: '' });
        const assigned = c.connack!.properties?.assignedClientIdentifier;
        expect(typeof assigned).toBe('string');
        expect(assigned!.length).toBeGreaterThan(0);
        // The session really lives under the assigned identifier.
        expect(s.h.broker.session(assigned!)?.connected).toBe(true);
        // Two empty ids get two different identifiers [MQTT-3.1.3-6].
        const d = await s.connect({ clientId: '' });
        expect(d.connack!.properties?.assignedClientIdentifier).not.toBe(assigned);
      });

      it('announces its capabilities in the CONNACK properties (§3.2.2.3)', async () => {
        const c = await s.connect();
        const p = c.connack!.properties ?? {};
        const f = s.h.broker.features;
        // Inbound QoS 1 is acknowledged at once; the bound is the QoS 2 awaiting-PUBREL limit.
        expect(p.receiveMaximum).toBe(f.maxAwaitingRel);
        expect(p.receiveMaximum).toBe(100);
        expect(p.topicAliasMaximum).toBe(65535);
        expect(p.retainAvailable).toBe(true);
        expect(p.wildcardSubscriptionAvailable).toBe(true);
        expect(p.sharedSubscriptionAvailable).toBe(true);
        expect(p.subscriptionIdentifiersAvailable).toBe(true);
        expect(p.maximumPacketSize).toBe(1024 * 1024);
        // QoS 2 is supported, so Maximum QoS is absent [MQTT-3.2.2-9]; no id was assigned.
        expect(p.maximumQoS).toBeUndefined();
        expect(p.assignedClientIdentifier).toBeUndefined();
      });
    }

    if (version === 4) {
      it('accepts an empty client identifier with clean session 1 [MQTT-3.1.3-6]', async () => {
        const c = await s.connect({ clientId: '', clean: true });
        expect(c.connack!.returnCode).toBe(0);
        expect(c.connack!.sessionPresent).toBe(false);
      });

      // MQTT.js refuses to send this CONNECT itself, so it goes out raw.
      it('refuses an empty client identifier with clean session 0: CONNACK 0x02 and close [MQTT-3.1.3-8]', async () => {
        const r = await s.raw();
        r.sendBytes(emptyClientIdConnect(4, false));
        const ack = await r.next('connack');
        expect(ack.returnCode).toBe(2);
        expect(ack.sessionPresent).toBe(false);
        await r.waitClosed();
      });
    }

    if (version === 3) {
      it('refuses an empty client identifier in MQTT 3.1: CONNACK 0x02 and close (3.1 §3.1)', async () => {
        const r = await s.raw();
        r.sendBytes(emptyClientIdConnect(3, true));
        const ack = await r.next('connack');
        expect(ack.returnCode).toBe(2);
        await r.waitClosed();
      });

    }

    if (v5) {
      it('refuses an unsupported Authentication Method with CONNACK 0x8C (§4.12)', async () => {
        const c = s.open({ properties: { authenticationMethod: 'SCRAM-SHA-256' } });
        const err = (await c.connected.catch((e: unknown) => e)) as Error & { code?: number };
        expect(err.code).toBe(0x8c);
        expect(c.packets.find((p) => p.cmd === 'connack')).toMatchObject({ reasonCode: 0x8c, sessionPresent: false });
        await c.waitClosed();
      });

      it('returns Response Information when requested and configured (§3.2.2.3.15)', async () => {
        const h = await s.startHarness({ mqtt: { response_information: 'replies/' } });
        const asked = await s.connect({ harness: h, properties: { requestResponseInformation: true } });
        expect(asked.connack!.properties?.responseInformation).toBe('replies/');
        const notAsked = await s.connect({ harness: h });
        expect(notAsked.connack!.properties?.responseInformation).toBeUndefined();
      });
    }

    it(`refuses a client identifier longer than max_clientid_len with CONNACK ${v5 ? '0x85' : '0x02'} (EMQX)`, async () => {
      const h = await s.startHarness({ mqtt: { max_clientid_len: 23 } });
      const ok = await s.connect({ harness: h, clientId: 'x'.repeat(23) });
      expect(codeOf(ok.connack)).toBe(0);
      const c = s.open({ harness: h, clientId: 'x'.repeat(24) });
      const err = (await c.connected.catch((e: unknown) => e)) as Error & { code?: number };
      expect(err.code).toBe(v5 ? 0x85 : 2);
      await c.waitClosed();
    });

    it('closes a connection that sends no CONNECT within idle_timeout (EMQX)', async () => {
      const h = await s.startHarness({ mqtt: { idle_timeout: 300 } });
      const r = await s.raw(h);
      const since = Date.now();
      await r.waitClosed(2000);
      expect(r.closedAt - since).toBeGreaterThanOrEqual(250);
      expect(r.packets).toEqual([]);
    });

    it('closes a connection whose first packet is not CONNECT [MQTT-3.1.0-1]', async () => {
      const r = await s.raw();
      r.send({ cmd: 'pingreq' });
      await r.waitClosed();
      expect(r.packets.map((p) => p.cmd)).not.toContain('pingresp');
    });

    it(`treats a second CONNECT as a protocol error${v5 ? ': DISCONNECT 0x82' : ''} [MQTT-3.1.0-2]`, async () => {
      const r = await s.raw();
      const ack = await r.connect({ clientId: uid('twice') });
      expect(codeOf(ack)).toBe(0);
      r.send({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true, keepalive: 60, clientId: uid('twice') });
      await r.waitClosed();
      if (v5) {
        const d = await r.next('disconnect');
        expect(d.reasonCode).toBe(0x82);
      }
      expect(r.packets.filter((p) => p.cmd === 'connack')).toHaveLength(1);
    });
  });
}
