/** Small HTTP client for CRL downloads and OCSP queries (Node's fetch, bounded in time and size). */

export class TlsFetchError extends Error {
  override readonly name = 'TlsFetchError';
}

const MAX_BODY = 16 * 1024 * 1024;

/** GET (or POST `body`) `url` and return the response body; non-2xx, timeouts and huge bodies throw. */
export async function fetchBytes(url: string, opts: { timeoutMs: number; body?: Buffer; contentType?: string }): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.body ? 'POST' : 'GET',
      body: opts.body,
      headers: opts.contentType ? { 'content-type': opts.contentType } : undefined,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    throw new TlsFetchError(`${url}: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new TlsFetchError(`${url}: HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_BODY) throw new TlsFetchError(`${url}: response too large`);
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > MAX_BODY) throw new TlsFetchError(`${url}: response too large`);
  return body;
}
