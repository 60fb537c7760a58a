import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { httpSink, SinkBufferFullError, type HttpSink } from '../src/index.js';
import { output, startHttp, until, type HttpFixture } from './helpers.js';

describe('HTTP sink', () => {
  let srv: HttpFixture;
  let sink: HttpSink | undefined;
  const make = (parameters: Record<string, unknown> = {}, resource_opts: Record<string, unknown> = {}) =>
    (sink = httpSink('hook', { url: srv.url, headers: { 'x-static': 'yes' } }, { connector: 'hook', parameters, resource_opts: { retry_interval: 20, ...resource_opts } }));

  beforeEach(async () => {
    srv = await startHttp();
  });
  afterEach(async () => {
    await sink?.stop(200);
    sink = undefined;
    await srv.stop();
  });

  it('renders method, url, headers and body from the rule output', async () => {
    const s = make({ method: 'put', path: '/devices/${clientid}', headers: { 'X-Topic': '${topic}' }, body: '{"t":${payload.temp}}' });
    await s.send(output({ clientid: 'dev-1' }, { topic: 'sensors/1', payload: JSON.stringify({ temp: 21.5 }) }));
    await until(() => s.stats().metrics.success === 1);
    expect(srv.requests).toHaveLength(1);
    const [r] = srv.requests;
    expect(r).toMatchObject({ method: 'PUT', url: '/devices/dev-1', body: '{"t":21.5}' });
    expect(r!.headers).toMatchObject({ 'x-topic': 'sensors/1', 'x-static': 'yes', 'content-type': 'application/json' });
    expect(s.stats().metrics).toMatchObject({ matched: 1, success: 1, failed: 0, dropped: 0, retried: 0, queuing: 0, inflight: 0 });
  });

  it('sends the output as JSON when no body template is set', async () => {
    const s = make();
    await s.send(output({ a: 1, b: 'x' }));
    await until(() => s.stats().metrics.success === 1);
    expect(JSON.parse(srv.requests[0]!.body)).toEqual({ a: 1, b: 'x' });
    expect(srv.requests[0]!.method).toBe('POST');
  });

  it('retries a 500 with backoff and then succeeds', async () => {
    srv.respond = (_r, n) => (n === 1 ? 500 : 200);
    const s = make();
    await s.send(output({ n: 1 }));
    await until(() => s.stats().metrics.success === 1);
    expect(srv.requests).toHaveLength(2);
    expect(s.stats().metrics).toMatchObject({ success: 1, failed: 0, retried: 1 });
  });

  it('does not retry a 400', async () => {
    srv.respond = () => 400;
    const s = make();
    await s.send(output({ n: 1 }));
    await until(() => s.stats().metrics.failed === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.requests).toHaveLength(1);
    expect(s.stats().metrics).toMatchObject({ success: 0, failed: 1, retried: 0 });
  });

  it('gives up after max_retries', async () => {
    srv.respond = () => 503;
    const s = make({}, { max_retries: 2 });
    await s.send(output({ n: 1 }));
    await until(() => s.stats().metrics.failed === 1);
    expect(srv.requests).toHaveLength(3);
    expect(s.stats().metrics).toMatchObject({ success: 0, failed: 1, retried: 2 });
  });

  it('rejects send with SinkBufferFullError when the buffer is full, and counts it dropped', async () => {
    srv.respond = () => undefined; // hang: the first request stays in flight
    const s = make({ request_timeout: 60_000 }, { max_buffer_items: 2 });
    await s.send(output({ n: 1 }));
    await until(() => srv.requests.length === 1);
    await s.send(output({ n: 2 }));
    await s.send(output({ n: 3 }));
    await expect(s.send(output({ n: 4 }))).rejects.toBeInstanceOf(SinkBufferFullError);
    expect(s.stats().metrics).toMatchObject({ matched: 4, dropped: 1, queuing: 2, inflight: 1 });
  });

  it('times a hanging request out and retries it', async () => {
    srv.respond = (_r, n) => (n === 1 ? undefined : 200);
    const s = make({ request_timeout: 150 });
    await s.send(output({ n: 1 }));
    await until(() => s.stats().metrics.success === 1);
    expect(srv.requests).toHaveLength(2);
    expect(s.stats().metrics).toMatchObject({ success: 1, retried: 1, failed: 0 });
  });

  it('rejects an invalid config with a ConfigError naming the key', () => {
    expect(() => httpSink('bad', { url: srv.url }, { connector: 'x', parameters: { method: 'fly' } })).toThrow(/actions\.http\.bad\.parameters\.method/);
  });
});
