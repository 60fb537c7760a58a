import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/logger.js';
import { sink } from './sink.js';

const secrets = {
  password: 'hunter2',
  authorization: 'Basic dXNlcjpodW50ZXIy',
  secret: 's3cr3t',
  client: { clientid: 'c1', password: 'hunter3', secret: 'inner' },
};

describe('createLogger', () => {
  it('json: writes one object per line, event name as the message, details in the object', () => {
    const out = sink();
    const log = createLogger({ level: 'info', format: 'json', destination: out.stream });
    log.info({ port: 1883 }, 'listener_started');
    const [line] = out.json();
    expect(line).toMatchObject({ level: 30, msg: 'listener_started', port: 1883 });
    expect(typeof line?.['time']).toBe('number');
  });

  it('json: redacts passwords, authorization and secrets, also one level down', () => {
    const out = sink();
    createLogger({ level: 'info', format: 'json', destination: out.stream }).info(secrets, 'client_connecting');
    const [line] = out.json();
    expect(line).toMatchObject({
      password: '[Redacted]',
      authorization: '[Redacted]',
      secret: '[Redacted]',
      client: { clientid: 'c1', password: '[Redacted]', secret: '[Redacted]' },
    });
    expect(out.text()).not.toMatch(/hunter|s3cr3t|inner|dXNl/);
  });

  it('drops events below the level', () => {
    const out = sink();
    const log = createLogger({ level: 'warn', format: 'json', destination: out.stream });
    log.info({}, 'quiet_event');
    log.warn({}, 'loud_event');
    expect(out.json().map((l) => l['msg'])).toEqual(['loud_event']);
  });

  it('text: writes readable lines with the level, event and details, and redacts', async () => {
    const out = sink();
    const log = createLogger({ level: 'info', format: 'text', destination: out.stream });
    log.info({ ...secrets, port: 1883 }, 'listener_started');
    await vi.waitFor(() => expect(out.text()).toContain('listener_started'));
    const text = out.text();
    expect(text).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: listener_started /);
    expect(text).toContain('"port":1883');
    expect(text).toContain('"password":"[Redacted]"');
    expect(text).not.toMatch(/hunter|s3cr3t|inner/);
    expect(text).not.toContain('\u001b['); // no colours when not writing to a terminal
    expect(text.trimEnd().split('\n')).toHaveLength(1);
  });
});
