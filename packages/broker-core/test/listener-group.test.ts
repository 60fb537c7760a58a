import { describe, expect, it } from 'vitest';
import { hasListenerControl, ListenerGroup, type AdapterStats, type Listener, type ListenerInfo } from '../src/index.js';

/** A listener that records its calls; `failStart` makes the next start throw. */
class FakeListener implements Listener {
  readonly calls: string[] = [];
  failStart = false;
  private port = 1000;
  constructor(readonly name: string) {}
  async start(): Promise<ListenerInfo> {
    this.calls.push('start');
    if (this.failStart) throw new Error('address in use');
    return { type: 'tcp', name: this.name, host: '127.0.0.1', port: ++this.port };
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
}

class Group extends ListenerGroup<FakeListener> {
  stats(): AdapterStats {
    return { connections: 0 };
  }
}

describe('ListenerGroup listener control', () => {
  it('stops and starts one listener; the group stop skips those already stopped', async () => {
    const a = new FakeListener('a');
    const b = new FakeListener('b');
    const g = new Group([a, b]);
    expect(hasListenerControl(g)).toBe(true);
    expect(g.listenerStatus()).toEqual([]);
    await g.start();
    expect(g.listenerStatus().map((s) => [s.id, s.running])).toEqual([
      ['tcp:a', true],
      ['tcp:b', true],
    ]);
    await g.stopListener('tcp:a');
    await g.stopListener('tcp:a');
    expect(a.calls).toEqual(['start', 'stop']);
    expect(g.listenerStatus()[0]).toMatchObject({ id: 'tcp:a', running: false, info: { port: 1001 } });
    expect((await g.startListener('tcp:a')).port).toBe(1002);
    expect((await g.startListener('tcp:a')).port).toBe(1002); // running: no second bind
    await g.stopListener('tcp:b');
    await g.stop();
    expect(a.calls).toEqual(['start', 'stop', 'start', 'stop']);
    expect(b.calls).toEqual(['start', 'stop']);
    expect(g.listenerStatus().every((s) => !s.running)).toBe(true);
    await expect(g.startListener('tcp:a')).rejects.toThrow(RangeError);
  });

  it('refuses unknown ids and reports a failed start without marking it running', async () => {
    const a = new FakeListener('a');
    const g = new Group([a]);
    await g.start();
    await expect(g.stopListener('tcp:zz')).rejects.toThrow(RangeError);
    await g.stopListener('tcp:a');
    a.failStart = true;
    await expect(g.startListener('tcp:a')).rejects.toThrow('address in use');
    expect(g.listenerStatus()[0]!.running).toBe(false);
    a.failStart = false;
    expect((await g.startListener('tcp:a')).name).toBe('a');
    await g.stop();
  });

  it('a listener that fails to bind at start stops the others, as before', async () => {
    const a = new FakeListener('a');
    const b = new FakeListener('b');
    b.failStart = true;
    const g = new Group([a, b]);
    await expect(g.start()).rejects.toThrow('address in use');
    expect(a.calls).toEqual(['start', 'stop']);
    expect(b.calls).toEqual(['start', 'stop']);
  });
});
