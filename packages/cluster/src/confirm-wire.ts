/**
 * The wire form of confirmations (see `Confirmations`).
 *
 * A message sent for confirmation carries, in its reply subject, one token per node expected to
 * hold matching persistent sessions: `{node hash}_{count}-{xor}`, the number of those sessions and
 * the XOR of their client ids' hashes, as the publisher's view of the registry has them. The
 * receiving node computes the same over the persistent sessions it actually gave the message to.
 * When they agree (nearly always) it answers with its name; when they differ (a session on its way
 * here or gone on, a subscription changed) it answers `{name}\0{JSON array of those client ids}`,
 * and the publisher parks the message for the sessions it expected there that are not in the list.
 * A reply subject without a token for the node (an older publisher) gets the plain name.
 */
import { encodeLevel } from './subject.js';

/** FNV-1a (32 bits) over a string's UTF-16 code units. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Count and XOR of hashes of a set of client ids. */
export function digestOf(clientIds: Iterable<string>): string {
  let n = 0;
  let x = 0;
  for (const id of clientIds) {
    n++;
    x ^= hash32(id);
  }
  return `${n}-${(x >>> 0).toString(36)}`;
}

const nodeKeys = new Map<string, string>();

/** The token prefix that names `node` in a reply subject. */
function nodeKey(node: string): string {
  let k = nodeKeys.get(node);
  if (k === undefined) {
    if (nodeKeys.size > 1024) nodeKeys.clear();
    k = `${hash32(node).toString(36)}_`;
    nodeKeys.set(node, k);
  }
  return k;
}

/** The reply-subject tokens of the expectations: per node, the digest of its sessions. */
export function expectationTokens(expected: ReadonlyMap<string, readonly { clientId: string }[]>): string {
  let out = '';
  for (const [node, targets] of expected) out += `.${nodeKey(node)}${digestOf(targets.map((t) => t.clientId))}`;
  return out;
}

/** Where `node` takes confirmations: its reply subjects are this plus an id and the tokens. */
export function replyPrefix(prefix: string, node: string): string {
  return `${prefix}.ctl.${encodeLevel(node)}.delivered.`;
}

/**
 * The receiving side: what to answer on `reply` once the message is queued here, given the client
 * ids of the persistent sessions it was given to.
 */
export function confirmationPayload(reply: string, prefix: string, self: string, persistent: readonly string[]): string {
  // `{prefix}.ctl.{publisher}.delivered.{id}{tokens}`: the publisher's level has no dots.
  const head = `${prefix}.ctl.`;
  if (!reply.startsWith(head)) return self;
  const dot = reply.indexOf('.', head.length);
  if (dot < 0 || !reply.startsWith('.delivered.', dot)) return self;
  const tokens = reply.indexOf('.', dot + '.delivered.'.length);
  if (tokens < 0) return self;
  const key = `.${nodeKey(self)}`;
  const at = reply.indexOf(key, tokens);
  if (at < 0) return self;
  const start = at + key.length;
  const end = reply.indexOf('.', start);
  const expected = reply.slice(start, end < 0 ? undefined : end);
  return expected === digestOf(persistent) ? self : `${self}\u0000${JSON.stringify(persistent)}`;
}

/** The publishing side: the answering node, and the sessions it gave the message to when it lists
 * them (undefined: all it was expected to). */
export function readConfirmation(payload: string): { node: string; delivered: readonly string[] | undefined } {
  const i = payload.indexOf('\u0000');
  if (i < 0) return { node: payload, delivered: undefined };
  let delivered: string[] = [];
  try {
    const v: unknown = JSON.parse(payload.slice(i + 1));
    if (Array.isArray(v)) delivered = v.filter((x): x is string => typeof x === 'string');
  } catch {
    // A damaged list: taken as none, so the message is parked for every session expected there.
  }
  return { node: payload.slice(0, i), delivered };
}
