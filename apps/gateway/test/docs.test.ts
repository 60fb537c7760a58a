import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { configDocs, docRows } from '../src/config/docs.js';
import { Bind, Duration } from '@junction/broker-core';
import { testSchema } from './helpers.js';

describe('docRows', () => {
  it('lists every key path with type, default and description', () => {
    const schema = Type.Object({
      name: Type.String({ default: 'x', description: 'The name.' }),
      port: Type.Integer({ minimum: 1, maximum: 65535, description: 'The port.' }),
      tags: Type.Optional(Type.Array(Type.Object({ key: Type.String({ description: 'Tag key.' }) }), { description: 'Tags.' })),
      listeners: Type.Record(Type.String(), Type.Object({ bind: Bind({ default: '127.0.0.1:1', description: 'Bind.' }) }), { description: 'Named.' }),
      timeout: Duration({ default: '5s', description: 'Timeout.' }),
      mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a', description: 'Mode.' }),
      prefix: Type.String({ default: '', description: 'Prefix | none.' }),
    });
    expect(docRows(schema)).toEqual([
      { path: 'name', type: 'string', default: 'x', description: 'The name.' },
      { path: 'port', type: 'integer (1..65535)', default: 'required', description: 'The port.' },
      { path: 'tags', type: 'array of object', default: '-', description: 'Tags.' },
      { path: 'tags[].key', type: 'string', default: 'required', description: 'Tag key.' },
      { path: 'listeners', type: 'map of object', default: 'required', description: 'Named.' },
      { path: 'listeners.<name>', type: 'object', default: '-', description: '' },
      { path: 'listeners.<name>.bind', type: 'bind address', default: '127.0.0.1:1', description: 'Bind.' },
      { path: 'timeout', type: 'duration', default: '5s', description: 'Timeout.' },
      { path: 'mode', type: '"a" | "b"', default: 'a', description: 'Mode.' },
      { path: 'prefix', type: 'string', default: '""', description: 'Prefix | none.' },
    ]);
    expect(configDocs(Type.Object({ s: schema }))).toContain('| `s.prefix` | string | `""` | Prefix \\| none. |');
  });
});

describe('configDocs', () => {
  const md = configDocs(testSchema);

  it('has a section per top-level key, with its description', () => {
    const headings = md.split('\n').filter((l) => l.startsWith('## '));
    expect(headings).toEqual(['## node', '## log', '## sys_topics', '## mqtt', '## listeners', '## gateway']);
    expect(md).toContain('## node\n\nThis node: its name and where it keeps data.\n\n| Key | Type | Default | Description |\n| --- | --- | --- | --- |\n');
  });

  it('has a table row for every key', () => {
    const rows = md.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows).toContain('| `node.name` | string | `junction@127.0.0.1` | Node name, `name@host` as in EMQX; identifies this node in logs, $SYS topics and a cluster. |');
    expect(rows).toContain('| `node.cookie` | string | - | Shared secret nodes of one cluster use to recognise each other. Not needed for a single node. |');
    expect(rows).toContain('| `log.format` | "text" \\| "json" | `text` | `text`: one readable line per event, for a terminal; `json`: one JSON object per line, for log collectors. |');
    expect(rows).toContain('| `sys_topics.sys_msg_interval` | duration | `1m` | Interval between publications of broker statistics on `$SYS/` topics; 0 disables them. |');
    expect(rows).toContain('| `mqtt.max_packet_size` | bytes | `1MB` | Largest packet accepted. |');
    expect(rows).toContain('| `mqtt.await_rel_timeout` | duration | `300s` | QoS 2 release timeout. |');
    expect(rows).toContain('| `listeners.tcp` | map of object | - | TCP listeners by name. |');
    expect(rows).toContain('| `listeners.tcp.<name>.bind` | bind address | `127.0.0.1:1883` | Address to listen on. |');
    expect(rows).toContain('| `gateway.coap.heartbeat` | duration | `30s` | Heartbeat interval. |');
    expect(rows.map((r) => r.split(' | ')[0]?.slice(2))).toEqual([
      ...['`node.name`', '`node.data_dir`', '`node.cookie`', '`node.workers`', '`log.level`', '`log.format`'],
      ...['`sys_topics.sys_msg_interval`', '`sys_topics.sys_heartbeat_interval`', '`sys_topics.sys_event_messages`'],
      ...['`sys_topics.sys_event_messages.client_connected`', '`sys_topics.sys_event_messages.client_disconnected`'],
      ...['`sys_topics.sys_event_messages.client_subscribed`', '`sys_topics.sys_event_messages.client_unsubscribed`'],
      ...['`mqtt.max_packet_size`', '`mqtt.session_expiry_interval`', '`mqtt.await_rel_timeout`', '`mqtt.max_inflight`'],
      ...['`mqtt.retain_available`', '`mqtt.client_id_prefixes`'],
      ...['`listeners.tcp`', '`listeners.tcp.<name>`', '`listeners.tcp.<name>.bind`', '`listeners.tcp.<name>.enable`'],
      ...['`listeners.tcp.<name>.max_connections`', '`listeners.tcp.<name>.mountpoint`'],
      ...['`gateway.coap`', '`gateway.coap.connection_required`', '`gateway.coap.heartbeat`'],
    ]);
  });

  it('explains the value formats', () => {
    expect(md).toContain('- **duration**: a duration such as "500ms", "30s", "5m", "2h", "1d", "1h30m", or a number of milliseconds.');
    expect(md).toContain('- **bind address**: a bind address such as "127.0.0.1:1883"');
  });
});
