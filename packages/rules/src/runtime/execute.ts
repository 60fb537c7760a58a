/**
 * Running a statement over one event's columns (EMQX's emqx_rule_runtime):
 *
 * - SELECT evaluates the fields in order; each result is stored under its alias (or, unaliased,
 *   under the path it reads, e.g. `payload.x` gives `{payload: {x: ...}}`) both in the output and
 *   in the columns, so later fields and WHERE see it. `*` copies every column.
 * - FOREACH evaluates its fields the same way; the last one is the collection (not an array: no
 *   elements). WHERE sees the columns and the fields. Each element, under the last field's alias
 *   (default `item`), is kept when INCASE holds, then shaped by DO (without DO: the columns plus
 *   the element). No element left, or WHERE false: no result.
 */
import type { AliasPath, Expr, Field, Statement } from '../sql/ast.js';
import { printExpr } from '../sql/print.js';
import type { Evaluation } from './eval.js';
import { putPathInPlace } from './paths.js';
import { isText, type Value, type ValueMap } from './values.js';

export type RunResult = { passed: true; outputs: ValueMap[] } | { passed: false };

/** The key an unaliased field is stored under. */
export function fieldKey(e: Expr): AliasPath {
  if (e.kind === 'path' && e.segments.every((s) => s.kind === 'key')) return [e.root, ...e.segments.map((s) => (s as { key: string }).key)];
  if (e.kind === 'slice' && e.target.kind === 'path') return fieldKey(e.target);
  // A string constant names itself (EMQX); anything else is keyed by its SQL text.
  if (e.kind === 'const' && typeof e.value === 'string') return [e.value];
  return [printExpr(e)];
}

/** Store a selected value in the columns and the output. */
function store(ev: Evaluation, cols: ValueMap, out: ValueMap, key: AliasPath, v: Value): void {
  // Writing into `payload.…` first decodes a JSON payload, as EMQX does.
  if (key[0] === 'payload' && key.length > 1 && isText(cols.payload)) cols.payload = ev.payload(cols);
  putPathInPlace(cols, key, v);
  putPathInPlace(out, key, v);
}

/** SELECT-style fields; `cols` is updated with each result. */
export function selectFields(ev: Evaluation, fields: readonly Field[], cols: ValueMap): ValueMap {
  const out: ValueMap = {};
  for (const f of fields) {
    if (f.kind === 'all') {
      Object.assign(out, cols);
      continue;
    }
    const v = ev.eval(f.expr, cols);
    store(ev, cols, out, f.alias ?? fieldKey(f.expr), v);
  }
  return out;
}

export function runStatement(ev: Evaluation, stmt: Statement, columns: ValueMap): RunResult {
  if (stmt.type === 'select') {
    const cols: ValueMap = { ...columns };
    const selected = selectFields(ev, stmt.fields, cols);
    if (stmt.where && !ev.condition(stmt.where, { ...cols, ...selected })) return { passed: false };
    return { passed: true, outputs: [selected] };
  }

  const cols: ValueMap = { ...columns };
  const selected: ValueMap = {};
  const last = stmt.fields.length - 1;
  let collKey = 'item';
  let collection: Value[] = [];
  stmt.fields.forEach((f, i) => {
    if (f.kind === 'all') return;
    const v = ev.eval(f.expr, cols);
    const key = f.alias ?? fieldKey(f.expr);
    if (i < last) {
      store(ev, cols, selected, key, v);
      return;
    }
    putPathInPlace(selected, key, v);
    if (f.alias) collKey = f.alias.join('.');
    collection = Array.isArray(v) ? v : [];
  });
  if (stmt.where && !ev.condition(stmt.where, { ...columns, ...selected })) return { passed: false };
  const outputs: ValueMap[] = [];
  for (const item of collection) {
    const itemCols: ValueMap = { ...columns, [collKey]: item };
    if (stmt.incase && !ev.condition(stmt.incase, itemCols)) continue;
    outputs.push(stmt.do ? selectFields(ev, stmt.do, itemCols) : itemCols);
  }
  return outputs.length > 0 ? { passed: true, outputs } : { passed: false };
}
