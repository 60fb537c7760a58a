import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callErrorMessage, callMessage, callResultMessage, decodeMessage, encodeMessage, errorCodeFor, fromFrame, MessageFormatError, toFrame, type OcppMessage } from '../src/index.js';

const json = fc.jsonValue();
const id = fc.string({ minLength: 1, maxLength: 36 });
const message: fc.Arbitrary<OcppMessage> = fc.oneof(
  fc.tuple(id, fc.string({ minLength: 1 }), json).map(([u, a, p]) => callMessage(u, a, p)),
  fc.tuple(id, json).map(([u, p]) => callResultMessage(u, p)),
  fc.tuple(id, fc.string({ minLength: 1 }), fc.string(), json).map(([u, c, d, x]) => callErrorMessage(u, c, d, x)),
);

describe('frames', () => {
  it('OCPP-J frame <-> message object round-trips', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(fromFrame(JSON.parse(JSON.stringify(toFrame(m))))).toEqual(JSON.parse(JSON.stringify(m)));
      }),
    );
  });

  it('MQTT payload <-> message object round-trips', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(JSON.parse(JSON.stringify(m)));
      }),
    );
  });

  it('byte-exact frames and objects', () => {
    expect(toFrame(callMessage('19223201', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }))).toEqual([2, '19223201', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }]);
    expect(encodeMessage(callResultMessage('1', { status: 'Accepted' })).toString()).toBe('{"MessageTypeId":3,"UniqueId":"1","Payload":{"status":"Accepted"}}');
    expect(encodeMessage(callErrorMessage('2', 'NotSupported', 'no', {}, 'Reset')).toString()).toBe(
      '{"MessageTypeId":4,"UniqueId":"2","ErrorCode":"NotSupported","ErrorDescription":"no","ErrorDetails":{},"Action":"Reset"}',
    );
    expect(fromFrame([4, 'x', 'GenericError', 'oops', { a: 1 }])).toEqual(callErrorMessage('x', 'GenericError', 'oops', { a: 1 }));
  });

  it('is lenient where EMQX is: numeric UniqueId, missing ErrorDescription and ErrorDetails, an Action on results', () => {
    expect(decodeMessage('{"MessageTypeId":3,"UniqueId":42,"Payload":{}}')).toEqual(callResultMessage('42', {}));
    expect(decodeMessage('{"MessageTypeId":4,"UniqueId":"a","ErrorCode":"GenericError"}')).toEqual(callErrorMessage('a', 'GenericError', '', {}));
    expect(decodeMessage('{"MessageTypeId":3,"UniqueId":"a","Payload":{},"Action":"Heartbeat"}')).toEqual(callResultMessage('a', {}, 'Heartbeat'));
  });

  it.each([
    ['not json', undefined],
    ['[1,2]', undefined],
    ['null', undefined],
    ['{"MessageTypeId":2,"UniqueId":"","Action":"A","Payload":{}}', undefined],
    ['{"MessageTypeId":2,"UniqueId":"u","Payload":{}}', 'u'],
    ['{"MessageTypeId":2,"UniqueId":"u","Action":"A"}', 'u'],
    ['{"MessageTypeId":2,"UniqueId":"u","Action":7,"Payload":{}}', 'u'],
    ['{"MessageTypeId":3,"UniqueId":"u"}', 'u'],
    ['{"MessageTypeId":4,"UniqueId":"u","ErrorCode":"X","ErrorDescription":5}', 'u'],
    ['{"MessageTypeId":5,"UniqueId":"u"}', 'u'],
  ])('refuses %s (reporting UniqueId %s)', (payload, uniqueId) => {
    let err: unknown;
    try {
      decodeMessage(payload);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MessageFormatError);
    expect((err as MessageFormatError).uniqueId).toBe(uniqueId);
  });

  it('never throws anything but MessageFormatError on random input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), json.map((j) => JSON.stringify(j)), fc.uint8Array().map((b) => Buffer.from(b).toString('latin1'))), (s) => {
        try {
          decodeMessage(s);
        } catch (e) {
          expect(e).toBeInstanceOf(MessageFormatError);
        }
        try {
          fromFrame(JSON.parse(s));
        } catch (e) {
          if (!(e instanceof SyntaxError)) expect(e).toBeInstanceOf(MessageFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('spells error codes per version', () => {
    expect(errorCodeFor('1.6', 'FormatViolation')).toBe('FormationViolation');
    expect(errorCodeFor('2.0.1', 'FormationViolation')).toBe('FormatViolation');
    expect(errorCodeFor('1.6', 'OccurenceConstraintViolation')).toBe('OccurrenceConstraintViolation');
    expect(errorCodeFor('2.0.1', 'NotImplemented')).toBe('NotImplemented');
  });
});
