/** Dotted key paths (`listeners.tcp.default.bind`) and values addressed by them. */

/** Joins path segments into a dotted path; array indexes are segments like any other. */
export function joinPath(segments: readonly (string | number)[]): string {
  return segments.join('.');
}

/** Splits a dotted path into segments; the empty path is the root. */
export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

/** Converts a JSON pointer as TypeBox reports it (`/listeners/tcp`) into path segments. */
export function pointerToSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path, or undefined when any segment is missing. */
export function getAtPath(root: unknown, path: string): unknown {
  let node = root;
  for (const segment of splitPath(path)) {
    if (isPlainObject(node)) node = node[segment];
    else if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else return undefined;
  }
  return node;
}
