/** Hash routing: `#/clients/sensor%2F1` → `{ page: 'clients', args: ['sensor/1'] }`. */

export interface Route {
  readonly page: string;
  readonly args: readonly string[];
}

export function currentRoute(): Route {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '');
  const [page = 'overview', ...rest] = parts;
  return { page, args: rest.map((p) => safeDecode(p)) };
}

/** The href of a route; each argument is one encoded segment. */
export function href(page: string, ...args: string[]): string {
  return `#/${[page, ...args.map((a) => encodeURIComponent(a))].join('/')}`;
}

export function go(page: string, ...args: string[]): void {
  location.hash = href(page, ...args);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
