/**
 * The REST API client: `/api/v5` next to the page (admin serves both), the login token kept in
 * sessionStorage (gone with the tab), JSON in and out, errors as `ApiError` with EMQX's code.
 * A 401 on any call ends the session: the app shows the login page.
 */

const TOKEN_KEY = 'junction.token';
const USER_KEY = 'junction.user';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Encode one path segment (client ids and topics may hold `/`, `#`, `+`, spaces). */
export const seg = (s: string): string => encodeURIComponent(s);

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

class Api extends EventTarget {
  private readonly base = new URL('api/v5/', document.baseURI).pathname;

  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  get username(): string {
    return sessionStorage.getItem(USER_KEY) ?? '';
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.request<{ token: string }>('POST', 'login', { username, password }, false);
    sessionStorage.setItem(TOKEN_KEY, r.token);
    sessionStorage.setItem(USER_KEY, username);
    this.dispatchEvent(new Event('session'));
  }

  async logout(): Promise<void> {
    try {
      if (this.token) await this.request('POST', 'logout');
    } catch {
      // the token may already be gone
    }
    this.clear();
  }

  private clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    this.dispatchEvent(new Event('session'));
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  del(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  /** A GET whose answer is text, not JSON (a trace file). */
  async text(path: string): Promise<string> {
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const res = await fetch(this.base + path.replace(/^\//, ''), { headers });
    const text = await res.text();
    if (!res.ok) {
      if (res.status === 401) this.clear();
      let e: { code?: string; message?: string } = {};
      try {
        e = JSON.parse(text) as typeof e;
      } catch {
        // not JSON
      }
      throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText);
    }
    return text;
  }

  async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = {};
    if (auth && this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.base + path.replace(/^\//, ''), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', `cannot reach the server: ${(err as Error).message}`);
    }
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!res.ok) {
      const e = (data ?? {}) as { code?: string; message?: string };
      if (res.status === 401 && auth) this.clear();
      throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText);
    }
    return data as T;
  }
}

export const api = new Api();

/** A list answer of the API. */
export interface Paged<T> {
  data: T[];
  meta: { page: number; limit: number; count: number; hasnext: boolean };
}
