/**
 * Rules changed at run time survive a restart: a second installRules on the same record store
 * brings back created, changed, disabled and deleted rules over the configured ones.
 */
import { BrokerCore, MemoryRecordStore, type Logger } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import { installRules, RULES_NAMESPACE, type RulesConfigInput } from '../src/index.js';
import { connect, msg, received, setup } from './helpers.js';

const configured: RulesConfigInput = {
  rules: {
    from_file: { sql: 'SELECT payload FROM "in/file"', actions: [{ function: 'republish', args: { topic: 'out/file', payload: '${payload}' } }] },
    doomed: { sql: 'SELECT payload FROM "in/doomed"', actions: [{ function: 'republish', args: { topic: 'out/doomed', payload: '${payload}' } }] },
  },
};

async function start(records: MemoryRecordStore) {
  const s = setup(configured);
  await s.rules.persist(records);
  return s;
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('rules kept in the record store', () => {
  it('re-applies created, changed, disabled and deleted rules after a restart', async () => {
    const records = new MemoryRecordStore();
    const first = await start(records);
    first.rules.create('api_rule', { sql: 'SELECT payload FROM "in/api"', actions: [{ function: 'republish', args: { topic: 'out/api', payload: 'api:${payload}' } }] });
    first.rules.update('from_file', { actions: [{ function: 'republish', args: { topic: 'out/file2', payload: '${payload}' } }] });
    first.rules.remove('doomed');
    first.rules.create('off', { sql: 'SELECT payload FROM "in/off"', actions: [{ function: 'republish', args: { topic: 'out/off', payload: '${payload}' } }] });
    first.rules.disable('off');
    first.rules.create('gone', { sql: 'SELECT payload FROM "in/gone"' });
    first.rules.remove('gone');
    await settle();
    // A deleted rule of the config file leaves a tombstone; a deleted API rule leaves nothing.
    expect((await records.list(RULES_NAMESPACE)).map((r) => r.key).sort()).toEqual(['api_rule', 'doomed', 'from_file', 'off']);
    first.rules.stop();

    const { broker, rules } = await start(records);
    expect(rules.list().map((r) => [r.id, r.enable]).sort()).toEqual([
      ['api_rule', true],
      ['from_file', true],
      ['off', false],
    ]);
    const sub = await connect(broker, 'sub');
    await sub.handle.subscribe([{ filter: 'out/#', qos: 0 }]);
    const pub = await connect(broker, 'pub');
    for (const t of ['in/api', 'in/file', 'in/doomed', 'in/off']) pub.handle.publish(msg(t, 'x'));
    expect(received(sub)).toEqual([
      ['out/api', 'api:x'],
      ['out/file2', 'x'],
    ]);
  });

  it('skips a stored rule that no longer compiles, with a warning', async () => {
    const records = new MemoryRecordStore();
    await records.put(RULES_NAMESPACE, 'bad', { config: { sql: 'SELEKT nonsense' } });
    await records.put(RULES_NAMESPACE, 'junk', 42);
    const warnings: unknown[] = [];
    const log: Logger = { debug() {}, info() {}, error() {}, warn: (o, e) => void warnings.push([e, (o as { rule_id?: string }).rule_id]), child: () => log };
    const rules = installRules(new BrokerCore({ config: { allow_anonymous: true } }), configured, log);
    expect(await rules.persist(records)).toBe(0);
    expect(rules.list().map((r) => r.id).sort()).toEqual(['doomed', 'from_file']);
    expect(warnings).toEqual([
      ['stored_rule_skipped', 'bad'],
      ['stored_rule_skipped', 'junk'],
    ]);
  });
});
