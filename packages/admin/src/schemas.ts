/** TypeBox schemas shared by the routes: errors, paging, and the small pieces EMQX repeats. */
import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  { code: Type.String({ description: 'EMQX error code, e.g. `NOT_FOUND`, `BAD_REQUEST`, `BAD_TOKEN`.' }), message: Type.String() },
  { $id: 'Error', description: 'An error, as EMQX answers it.' },
);

export const Meta = Type.Object(
  {
    page: Type.Integer({ minimum: 1 }),
    limit: Type.Integer({ minimum: 1 }),
    count: Type.Integer({ minimum: 0, description: 'Number of matching items over all pages.' }),
    hasnext: Type.Boolean({ description: 'True when a further page exists.' }),
  },
  { description: 'Paging of a list.' },
);

export const PageQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: 'Page number, from 1.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'Items per page (at most 10000).' })),
};

export function paged<T extends TSchema>(item: T, description: string): TSchema {
  return Type.Object({ data: Type.Array(item), meta: Meta }, { description });
}

export interface Page<T> {
  data: T[];
  meta: { page: number; limit: number; count: number; hasnext: boolean };
}

/** One page of `items`; page numbers start at 1. */
export function page<T>(items: readonly T[], q: { page?: number; limit?: number }): Page<T> {
  const p = q.page ?? 1;
  const limit = q.limit ?? 100;
  const start = (p - 1) * limit;
  return { data: items.slice(start, start + limit), meta: { page: p, limit, count: items.length, hasnext: start + limit < items.length } };
}

/** An error response map for a route schema. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
}

/** RFC 3339 time of epoch milliseconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** Epoch milliseconds of a query value: digits (epoch ms; EMQX also takes seconds below 10^11)
 * or RFC 3339 text; undefined when absent; NaN when unusable. */
export function timeParam(v: string | number | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number' || /^\d+$/.test(v)) {
    const n = Number(v);
    return n < 1e11 ? n * 1000 : n;
  }
  return Date.parse(v);
}
