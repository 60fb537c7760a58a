/**
 * `junction ctl …`: the REST API from a shell, as EMQX's `emqx ctl`. The gateway app passes the
 * API address and credentials (a login token or an API key); this module parses the command,
 * calls the API with `fetch` and prints plain lines (or the JSON answer with `--json`).
 */
export interface CtlOptions {
  /** The admin API, e.g. `http://127.0.0.1:18083`. */
  url: string;
  /** A login token (Bearer). */
  token?: string;
  /** An API key: `key:secret` or `{ key, secret }` (HTTP Basic). */
  apiKey?: string | { key: string; secret: string };
  /** Dashboard credentials: the ctl logs in first and logs out at the end. */
  login?: { username: string; password: string };
  /** Output, a line at a time; default stdout. */
  out?: (line: string) => void;
  /** Errors and usage; default stderr. */
  err?: (line: string) => void;
  fetch?: typeof fetch;
}

export const CTL_USAGE = `usage: junction ctl <command> [--json]

  status                                   is the broker up (no credentials needed)
  stats | metrics                          statistics and counters
  clients list [--clientid ID] [--username U] [--like-clientid S] [--conn-state connected|disconnected] [--page N] [--limit N]
  clients show <clientid>
  clients kick <clientid>                  disconnect a client (MQTT 5: DISCONNECT 0x98)
  subscriptions list [--clientid ID] [--topic T]
  topics list
  retained list | retained show <topic> | retained del <topic>
  publish <topic> <payload> [--qos 0|1|2] [--retain]
  banned list
  banned add <as> <who> [--reason R] [--until RFC3339] [--by B]   as: clientid, username, peerhost, peerhost_net, clientid_re, username_re
  banned del <as> <who>
  listeners                                the MQTT listeners and whether they run
  listeners stop|start|restart <id>        e.g. tcp:default; stopping disconnects its clients
  log set-level <level>                    trace, debug, info, warn, error, fatal, silent (until restart)
  trace list
  trace start clientid|topic|ip_address <value> [--name N] [--minutes M] [--formatter text|json]
  trace show <name>                        print the trace file
  trace stop <name> | trace del <name>
`;

type Flags = Record<string, string | true>;

class CtlError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Run one command; resolves with the exit code (0 done, 1 the API refused or failed, 2 usage). */
export async function runCtl(argv: readonly string[], opts: CtlOptions): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { words, flags } = parse(argv);
  const json = flags.json === true;
  const api = new Api(opts);
  try {
    const [cmd, sub, ...rest] = words;
    if (cmd === undefined || cmd === 'help' || flags.help) {
      out(CTL_USAGE);
      return cmd === undefined ? 2 : 0;
    }
    await api.open(cmd !== 'status');
    const print = (value: unknown, lines: () => string[]) => {
      if (json) out(JSON.stringify(value, null, 2));
      else for (const l of lines()) out(l);
    };
    switch (cmd === 'publish' ? cmd : `${cmd} ${sub ?? ''}`.trim()) {
      case 'status': {
        const s = (await api.call('GET', '/api/v5/status?format=json')) as Record<string, string>;
        print(s, () => [`Node ${s.node_name} is ${s.broker_status}`, `${s.app_name} ${s.rel_vsn} is ${s.app_status}`]);
        return 0;
      }
      case 'stats':
      case 'metrics': {
        const s = (await api.call('GET', `/api/v5/${cmd}?aggregate=true`)) as Record<string, number>;
        print(s, () => Object.entries(s).map(([k, v]) => `${k.padEnd(36)} ${v}`));
        return 0;
      }
      case 'clients list': {
        const q = query(flags, { clientid: 'clientid', username: 'username', 'like-clientid': 'like_clientid', 'conn-state': 'conn_state', page: 'page', limit: 'limit' });
        const r = (await api.call('GET', `/api/v5/clients${q}`)) as { data: Record<string, unknown>[]; meta: Record<string, unknown> };
        print(r, () => [
          ...r.data.map((c) => `Client(${c.clientid}, username=${c.username ?? ''}, peername=${c.ip_address}:${c.port}, proto=${c.proto_name}/${c.proto_ver ?? ''}, connected=${c.connected}, connected_at=${c.connected_at}, subscriptions=${c.subscriptions_cnt})`),
          `page ${r.meta.page}: ${r.data.length} of ${r.meta.count}${r.meta.hasnext ? ' (more: --page N)' : ''}`,
        ]);
        return 0;
      }
      case 'clients show': {
        const r = await api.call('GET', `/api/v5/clients/${enc(need(rest[0], 'clientid'))}`);
        out(JSON.stringify(r, null, 2));
        return 0;
      }
      case 'clients kick': {
        const id = need(rest[0], 'clientid');
        await api.call('DELETE', `/api/v5/clients/${enc(id)}`);
        print({ kicked: id }, () => [`kicked ${id}`]);
        return 0;
      }
      case 'subscriptions list': {
        const r = (await api.call('GET', `/api/v5/subscriptions${query(flags, { clientid: 'clientid', topic: 'topic', page: 'page', limit: 'limit' })}`)) as { data: Record<string, unknown>[] };
        print(r, () => r.data.map((s) => `${s.clientid} -> topic=${s.topic} qos=${s.qos}`));
        return 0;
      }
      case 'topics list': {
        const r = (await api.call('GET', `/api/v5/topics${query(flags, { page: 'page', limit: 'limit' })}`)) as { data: { topic: string; node: string }[] };
        print(r, () => r.data.map((t) => `${t.topic} -> ${t.node}`));
        return 0;
      }
      case 'retained list': {
        const r = (await api.call('GET', `/api/v5/mqtt/retainer/messages${query(flags, { topic: 'topic', page: 'page', limit: 'limit' })}`)) as { data: Record<string, unknown>[] };
        print(r, () => r.data.map((m) => `${m.topic} qos=${m.qos} from=${m.from_clientid} at=${m.publish_at}`));
        return 0;
      }
      case 'retained show': {
        const r = await api.call('GET', `/api/v5/mqtt/retainer/message/${enc(need(rest[0], 'topic'))}`);
        out(JSON.stringify(r, null, 2));
        return 0;
      }
      case 'retained del': {
        const topic = need(rest[0], 'topic');
        await api.call('DELETE', `/api/v5/mqtt/retainer/message/${enc(topic)}`);
        print({ deleted: topic }, () => [`deleted the retained message of ${topic}`]);
        return 0;
      }
      case 'publish': {
        const topic = need(sub, 'topic');
        const payload = need(rest[0], 'payload');
        const qos = flags.qos === undefined ? 0 : Number(flags.qos);
        if (![0, 1, 2].includes(qos)) throw new CtlError('--qos must be 0, 1 or 2', 2);
        const r = await api.call('POST', '/api/v5/publish', { topic, payload, qos, retain: flags.retain === true }, [200, 202]);
        print(r, () => [(r as { id?: string }).id ? `published ${(r as { id: string }).id}` : `published; ${(r as { message: string }).message}`]);
        return 0;
      }
      case 'banned list': {
        const r = (await api.call('GET', `/api/v5/banned${query(flags, { page: 'page', limit: 'limit' })}`)) as { data: Record<string, unknown>[] };
        print(r, () => r.data.map((b) => `${b.as} ${b.who} by=${b.by} reason=${b.reason} at=${b.at} until=${b.until}`));
        return 0;
      }
      case 'banned add': {
        const body: Record<string, unknown> = { as: need(rest[0], 'as'), who: need(rest[1], 'who') };
        for (const k of ['reason', 'until', 'by'] as const) if (typeof flags[k] === 'string') body[k] = flags[k];
        const b = (await api.call('POST', '/api/v5/banned', body)) as Record<string, unknown>;
        print(b, () => [`banned ${b.as} ${b.who} until ${b.until}`]);
        return 0;
      }
      case 'banned del': {
        const as = need(rest[0], 'as');
        const who = need(rest[1], 'who');
        await api.call('DELETE', `/api/v5/banned/${enc(as)}/${enc(who)}`);
        print({ deleted: { as, who } }, () => [`lifted the ban on ${as} ${who}`]);
        return 0;
      }
      case 'listeners':
      case 'listeners list': {
        const r = (await api.call('GET', '/api/v5/listeners')) as Record<string, unknown>[];
        print(r, () => r.map((l) => `${String(l.id).padEnd(20)} ${String(l.bind).padEnd(22)} ${l.running ? 'running' : 'stopped'} connections=${l.current_connections}`));
        return 0;
      }
      case 'listeners stop':
      case 'listeners start':
      case 'listeners restart': {
        const id = need(rest[0], 'id');
        const l = (await api.call('PUT', `/api/v5/listeners/${enc(id)}/${sub}`)) as Record<string, unknown>;
        print(l, () => [`${id} ${l.running ? 'running' : 'stopped'} on ${l.bind}`]);
        return 0;
      }
      case 'log set-level': {
        const level = need(rest[0], 'level');
        const r = await api.call('PUT', '/api/v5/configs/log', { level });
        print(r, () => [`log level ${level}`]);
        return 0;
      }
      case 'trace list': {
        const r = (await api.call('GET', '/api/v5/trace')) as Record<string, unknown>[];
        print(r, () => r.map((t) => `${t.name} ${t.type}=${t[String(t.type)]} ${t.status} ${t.start_at} .. ${t.end_at} bytes=${Object.values(t.log_size as Record<string, number>).reduce((a, b) => a + b, 0)}`));
        return 0;
      }
      case 'trace start': {
        const type = need(rest[0], 'clientid|topic|ip_address');
        const value = need(rest[1], 'value');
        const minutes = flags.minutes === undefined ? 10 : Number(flags.minutes);
        if (!(minutes > 0)) throw new CtlError('--minutes must be a positive number', 2);
        const name = typeof flags.name === 'string' ? flags.name : `${type}_${value}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
        const body: Record<string, unknown> = { name, type, [type]: value, end_at: new Date(Date.now() + minutes * 60_000).toISOString() };
        if (typeof flags.formatter === 'string') body.formatter = flags.formatter;
        const t = (await api.call('POST', '/api/v5/trace', body)) as Record<string, unknown>;
        print(t, () => [`trace ${t.name} ${t.status} until ${t.end_at}`]);
        return 0;
      }
      case 'trace show': {
        out(String(await api.call('GET', `/api/v5/trace/${enc(need(rest[0], 'name'))}/download`, undefined, [200], true)).replace(/\n$/, ''));
        return 0;
      }
      case 'trace stop': {
        const t = (await api.call('PUT', `/api/v5/trace/${enc(need(rest[0], 'name'))}/stop`)) as Record<string, unknown>;
        print(t, () => [`trace ${t.name} ${t.status}`]);
        return 0;
      }
      case 'trace del': {
        const name = need(rest[0], 'name');
        await api.call('DELETE', `/api/v5/trace/${enc(name)}`);
        print({ deleted: name }, () => [`deleted trace ${name}`]);
        return 0;
      }
      default:
        throw new CtlError(`unknown command: ${words.join(' ')}\n${CTL_USAGE}`, 2);
    }
  } catch (e) {
    if (e instanceof CtlError) {
      err(e.message);
      return e.exitCode;
    }
    err(`error: ${(e as Error).message}`);
    return 1;
  } finally {
    await api.close();
  }
}

class Api {
  private auth: string | undefined;
  private loggedIn = false;
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: CtlOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.fetch = opts.fetch ?? fetch;
    if (opts.token) this.auth = `Bearer ${opts.token}`;
    else if (opts.apiKey) {
      const pair = typeof opts.apiKey === 'string' ? opts.apiKey : `${opts.apiKey.key}:${opts.apiKey.secret}`;
      this.auth = `Basic ${Buffer.from(pair).toString('base64')}`;
    }
  }

  async open(needsCredentials: boolean): Promise<void> {
    if (this.auth || !needsCredentials) return;
    const l = this.opts.login;
    if (!l) throw new CtlError('credentials needed: an API key (key:secret) or a token', 2);
    const r = (await this.call('POST', '/api/v5/login', { username: l.username, password: l.password })) as { token: string };
    this.auth = `Bearer ${r.token}`;
    this.loggedIn = true;
  }

  async close(): Promise<void> {
    if (!this.loggedIn) return;
    this.loggedIn = false;
    await this.call('POST', '/api/v5/logout', {}).catch(() => {});
  }

  /** The answer parsed as JSON when it is (`raw`: the text as it came). */
  async call(method: string, path: string, body?: unknown, ok: number[] = [200, 201, 204], raw = false): Promise<unknown> {
    const headers: Record<string, string> = { 'user-agent': 'junction-ctl', accept: 'application/json' };
    if (this.auth) headers.authorization = this.auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new Error(`cannot reach ${this.base}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
    const text = await res.text();
    let value: unknown = text;
    try {
      value = text === '' ? undefined : JSON.parse(text);
    } catch {
      // plain text answer
    }
    if (!ok.includes(res.status)) {
      const v = value as { code?: string; message?: string } | undefined;
      throw new Error(`${res.status} ${v?.code ?? ''} ${v?.message ?? text}`.replace(/\s+/g, ' ').trim());
    }
    return raw ? text : value;
  }
}

function parse(argv: readonly string[]): { words: string[]; flags: Flags } {
  const words: string[] = [];
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (BOOLEAN_FLAGS.has(a.slice(2)) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) flags[a.slice(2)] = true;
      else flags[a.slice(2)] = argv[++i]!;
    } else words.push(a);
  }
  return { words, flags };
}

const BOOLEAN_FLAGS = new Set(['json', 'retain', 'help']);

function query(flags: Flags, names: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const [flag, param] of Object.entries(names)) if (typeof flags[flag] === 'string') q.set(param, flags[flag] as string);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function need(v: string | undefined, what: string): string {
  if (v === undefined || v === '') throw new CtlError(`missing <${what}>\n${CTL_USAGE}`, 2);
  return v;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
