/**
 * HTTP sink (EMQX's webhook / `http` action): one request per rule output through Node's
 * built-in fetch. 5xx, timeouts and network errors are retried with backoff; 4xx is not.
 */
import { Type, type Static } from '@sinclair/typebox';
import { silentLogger, type Logger } from '@junction/broker-core';
import { parseConfig } from './config.js';
import { NonRetryableError, ResilientQueue, ResourceOptsSchema, type SinkStatus } from './resilience.js';
import { outputJson, Template, type SinkOutput } from './template.js';

export const HttpConnectorSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the connector is started.' }),
    url: Type.String({ minLength: 1, description: 'Base URL, e.g. `http://127.0.0.1:8080/api`; may hold `${field}` placeholders.' }),
    headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Headers sent with every request.' }),
    connect_timeout: Type.Integer({ minimum: 1, default: 15_000, description: 'Milliseconds (reserved; the request timeout bounds the whole exchange).' }),
  },
  { additionalProperties: false },
);

export const HttpActionSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the action is registered.' }),
    connector: Type.String({ minLength: 1, description: 'Name of an `http` connector.' }),
    parameters: Type.Object(
      {
        method: Type.Union([Type.Literal('post'), Type.Literal('put'), Type.Literal('get'), Type.Literal('delete'), Type.Literal('patch')], { default: 'post', description: 'HTTP method.' }),
        path: Type.String({ default: '', description: 'Appended to the connector URL; `${field}` placeholders allowed.' }),
        headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Extra headers (values templated); override the connector headers.' }),
        body: Type.String({ default: '', description: 'Body template; empty sends the rule output as JSON.' }),
        request_timeout: Type.Integer({ minimum: 1, default: 15_000, description: 'Milliseconds before a request is abandoned (and retried).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    resource_opts: ResourceOptsSchema,
  },
  { additionalProperties: false },
);
export type HttpConnectorConfig = Static<typeof HttpConnectorSchema>;
export type HttpActionConfig = Static<typeof HttpActionSchema>;

interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export class HttpSink {
  readonly name: string;
  private readonly queue: ResilientQueue<HttpRequest>;
  private readonly url: Template;
  private readonly headers: [string, Template][];
  private readonly body: Template;

  constructor(
    actionName: string,
    private readonly connector: HttpConnectorConfig,
    private readonly action: HttpActionConfig,
    log: Logger = silentLogger,
  ) {
    this.name = `http:${actionName}`;
    this.url = new Template(connector.url + action.parameters.path);
    const hdrs = { 'content-type': 'application/json', ...lower(connector.headers), ...lower(action.parameters.headers) };
    this.headers = Object.entries(hdrs).map(([k, v]) => [k, new Template(v)]);
    this.body = new Template(action.parameters.body);
    // One request carries one output: HTTP is not batched.
    this.queue = new ResilientQueue(this.name, { ...action.resource_opts, batch_size: 1 }, { deliver: (b) => this.request(b[0]!) }, log);
  }

  send(output: SinkOutput): Promise<void> {
    this.queue.matched();
    const method = this.action.parameters.method.toUpperCase();
    const body = method === 'GET' || method === 'DELETE' ? undefined : this.body.isEmpty ? outputJson(output) : this.body.render(output);
    const headers = Object.fromEntries(this.headers.map(([k, t]) => [k, t.render(output)]));
    const req: HttpRequest = { method, url: this.url.render(output), headers, body };
    return this.queue.enqueue(req, Buffer.byteLength(body ?? '') + req.url.length);
  }

  private async request(req: HttpRequest): Promise<void> {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(this.action.parameters.request_timeout),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    const msg = `HTTP ${res.status} from ${req.method} ${req.url}`;
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Error(msg);
    throw new NonRetryableError(msg);
  }

  stats(): SinkStatus {
    return { status: 'connected', metrics: this.queue.metrics() };
  }

  async stop(timeoutMs?: number): Promise<void> {
    await this.queue.flush(timeoutMs);
  }
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

export function httpSink(actionName: string, connector: unknown, action: unknown, log?: Logger): HttpSink {
  return new HttpSink(
    actionName,
    parseConfig(HttpConnectorSchema, connector, 'connectors.http'),
    parseConfig(HttpActionSchema, action, `actions.http.${actionName}`),
    log,
  );
}
