/**
 * Templated HTTP requests, as EMQX's HTTP authenticator and authorizer make them: placeholders in
 * the URL path (URL-encoded), query, headers and body; POST sends the body as JSON (or a form,
 * when the content-type says so), GET moves the body fields into the query string.
 */
import { ConfigError } from '@junction/broker-core';
import type { HttpRequestConfig } from './config.js';
import { parseDeep, renderDeep, Template, type DeepTemplate, type VarLookup } from './template.js';

export interface HttpAnswer {
  status: number;
  /** Parsed JSON or form body; undefined when empty or not parseable. */
  body?: Record<string, unknown>;
}

export class TemplatedRequest {
  private readonly base: string;
  private readonly path: Template;
  private readonly query: [Template, Template][];
  private readonly headers: [string, Template][];
  private readonly body: DeepTemplate | undefined;
  private readonly form: boolean;

  constructor(
    private readonly cfg: HttpRequestConfig,
    allowed: readonly string[],
    configPath: string,
  ) {
    let url: URL;
    try {
      url = new URL(cfg.url.replace(/\$\{/g, '%24%7B').replace(/\}/g, '%7D'));
    } catch {
      throw new ConfigError(`${configPath}.url`, `invalid URL ${JSON.stringify(cfg.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${configPath}.url`, 'must be http:// or https://');
    const raw = cfg.url;
    const afterScheme = raw.indexOf('//') + 2;
    const pathStart = raw.indexOf('/', afterScheme);
    const queryStart = raw.indexOf('?', afterScheme);
    const hostEnd = [pathStart, queryStart].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), raw.length);
    this.base = raw.slice(0, hostEnd);
    const pathText = raw.slice(hostEnd, queryStart >= 0 ? queryStart : raw.length) || '/';
    const queryText = queryStart >= 0 ? raw.slice(queryStart + 1) : '';
    try {
      this.path = Template.parse(pathText, allowed);
      this.query = queryText
        .split('&')
        .filter((kv) => kv !== '')
        .map((kv) => {
          const eq = kv.indexOf('=');
          const k = decodeURIComponent(eq >= 0 ? kv.slice(0, eq) : kv);
          const v = eq >= 0 ? decodeURIComponent(kv.slice(eq + 1)) : '';
          return [Template.parse(k, allowed), Template.parse(v, allowed)];
        });
      const headers = Object.entries(cfg.headers ?? {}).map(([k, v]) => [k.toLowerCase(), Template.parse(String(v), allowed)] as [string, Template]);
      if (cfg.method === 'post' && !headers.some(([k]) => k === 'content-type')) headers.push(['content-type', Template.parse('application/json')]);
      if (cfg.method === 'get') {
        const i = headers.findIndex(([k]) => k === 'content-type');
        if (i >= 0) headers.splice(i, 1);
      }
      this.headers = headers;
      this.body = cfg.body === undefined ? undefined : parseDeep(cfg.body, allowed);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(configPath, (err as Error).message);
    }
    const ct = this.headers.find(([k]) => k === 'content-type')?.[1].source ?? '';
    this.form = ct.startsWith('application/x-www-form-urlencoded');
  }

  /** Send the request with these placeholder values; throws on network errors and timeouts. */
  async send(vars: VarLookup, signal?: AbortSignal): Promise<HttpAnswer> {
    const params = new URLSearchParams();
    for (const [k, v] of this.query) params.append(k.render(vars), v.render(vars));
    const body = this.body === undefined ? undefined : (renderDeep(this.body, vars) as Record<string, unknown>);
    let payload: string | undefined;
    if (body !== undefined) {
      if (this.cfg.method === 'get' || this.form) {
        const target = this.cfg.method === 'get' ? params : new URLSearchParams();
        for (const [k, v] of Object.entries(body)) target.append(k, typeof v === 'string' ? v : JSON.stringify(v));
        if (this.cfg.method !== 'get') payload = target.toString();
      } else payload = JSON.stringify(body);
    }
    const qs = params.toString();
    const url = `${this.base}${this.path.render(vars, encodeURIComponent)}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of this.headers) headers[k] = v.render(vars);
    const timeout = AbortSignal.timeout(this.cfg.request_timeout);
    const res = await fetch(url, {
      method: this.cfg.method.toUpperCase(),
      headers,
      body: payload,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    return { status: res.status, body: parseAnswer(res.headers.get('content-type') ?? '', text) };
  }
}

function parseAnswer(contentType: string, text: string): Record<string, unknown> | undefined {
  if (text === '') return undefined;
  try {
    if (contentType.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
