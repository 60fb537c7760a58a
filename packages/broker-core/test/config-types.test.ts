import { describe, expect, it } from 'vitest';
import { parseBind, parseBytes, parseDuration } from '../src/config-types.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['30S', 30_000],
    [' 5m ', 300_000],
    ['2500', 2500],
    [0, 0],
    [1234, 1234],
  ] as const)('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '5 minutes', '-1s', '1y', 's30'])('rejects %j, saying what a duration looks like', (input) => {
    expect(() => parseDuration(input)).toThrow(`expected a duration such as "500ms", "30s"`);
  });

  it('rejects negative numbers', () => {
    expect(() => parseDuration(-1)).toThrow('got -1');
  });
});

describe('parseBytes', () => {
  it.each([
    ['256', 256],
    ['512B', 512],
    ['64KB', 65_536],
    ['64kb', 65_536],
    ['1MB', 1_048_576],
    ['1M', 1_048_576],
    ['1.5KB', 1536],
    ['2GB', 2 * 1024 ** 3],
    [4096, 4096],
  ] as const)('%j is %d bytes', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  it.each(['', 'big', '1XB', '-1KB', 'KB'])('rejects %j', (input) => {
    expect(() => parseBytes(input)).toThrow('expected a size such as');
  });

  it('rejects fractional numbers of bytes', () => {
    expect(() => parseBytes(1.5)).toThrow('got 1.5');
  });
});

describe('parseBind', () => {
  it.each([
    ['127.0.0.1:1883', { host: '127.0.0.1', port: 1883 }],
    ['0.0.0.0:1883', { host: '0.0.0.0', port: 1883 }],
    ['localhost:8083', { host: 'localhost', port: 8083 }],
    ['[::1]:1883', { host: '::1', port: 1883 }],
    ['[::]:1883', { host: '::', port: 1883 }],
    ['[fe80::1%eth0]:1883', { host: 'fe80::1%eth0', port: 1883 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ] as const)('%j is %j', (input, expected) => {
    expect(parseBind(input)).toEqual(expected);
  });

  it('binds a bare port to loopback, not to every interface', () => {
    expect(parseBind('1883')).toEqual({ host: '127.0.0.1', port: 1883 });
    expect(parseBind(1883)).toEqual({ host: '127.0.0.1', port: 1883 });
  });

  it.each([':1883', '::1:1883', '127.0.0.1', 'host:port', '[::1]', ''])('rejects %j', (input) => {
    expect(() => parseBind(input)).toThrow('expected a bind address such as "127.0.0.1:1883"');
  });

  it('rejects ports above 65535', () => {
    expect(() => parseBind('127.0.0.1:70000')).toThrow('port 70000 is out of range 0..65535');
    expect(() => parseBind(65536)).toThrow('port 65536 is out of range');
  });
});
