import type { SubscriptionOptions } from '../contract.js';

/** Members of one shared subscription group (`$share/{group}/{filter}`) on one filter. */
export class SharedGroup<S> {
  readonly members: S[] = [];
  readonly options = new Map<S, SubscriptionOptions>();
  /** Round-robin cursor. */
  cursor = 0;
  /** Sticky strategy: the member picked last. */
  sticky: S | undefined;
  constructor(
    readonly name: string,
    readonly filter: string,
  ) {}
}

class Node<S> {
  children: Map<string, Node<S>> | null = null;
  subs: Map<S, SubscriptionOptions> | null = null;
  shared: Map<string, SharedGroup<S>> | null = null;

  isEmpty(): boolean {
    return !this.children?.size && !this.subs?.size && !this.shared?.size;
  }
}

export interface MatchVisitor<S> {
  sub(subscriber: S, opts: SubscriptionOptions): void;
  shared(group: SharedGroup<S>): void;
}

/**
 * The subscription trie: one node per topic level, `+` and `#` as ordinary child keys, so a
 * publish visits only the branches that can match. Subscribers are opaque keys (the core uses
 * its session objects). Filters given here are plain (the `$share/{group}/` prefix removed).
 */
export class SubscriptionIndex<S> {
  private readonly root = new Node<S>();
  private subCount = 0;
  private sharedCount = 0;
  /**
   * Topic name → the nodes `match` visits for it. Which nodes those are depends only on which
   * nodes exist: a node created by `add` clears the cache; a node pruned by `remove` was empty
   * and stays empty (a later `add` on its path creates a new one), so removing clears nothing.
   * Subscriptions are read from the nodes at each visit.
   */
  private readonly matchCache = new Map<string, Node<S>[]>();

  /** Number of (subscriber, filter) pairs, shared memberships included. */
  get size(): number {
    return this.subCount + this.sharedCount;
  }

  /** Add or replace; returns true if the subscription is new. */
  add(filter: string, subscriber: S, opts: SubscriptionOptions, group?: string): boolean {
    let node = this.root;
    for (const level of filter.split('/')) {
      node.children ??= new Map();
      let next = node.children.get(level);
      if (!next) {
        node.children.set(level, (next = new Node()));
        if (this.matchCache.size > 0) this.matchCache.clear();
      }
      node = next;
    }
    if (group === undefined) {
      node.subs ??= new Map();
      const isNew = !node.subs.has(subscriber);
      node.subs.set(subscriber, opts);
      if (isNew) this.subCount++;
      return isNew;
    }
    node.shared ??= new Map();
    let g = node.shared.get(group);
    if (!g) node.shared.set(group, (g = new SharedGroup(group, filter)));
    const isNew = !g.options.has(subscriber);
    if (isNew) g.members.push(subscriber);
    g.options.set(subscriber, opts);
    if (isNew) this.sharedCount++;
    return isNew;
  }

  /** Remove; returns true if the subscription existed. Empty branches are pruned. */
  remove(filter: string, subscriber: S, group?: string): boolean {
    const path: Node<S>[] = [];
    const levels = filter.split('/');
    let node: Node<S> | undefined = this.root;
    for (const level of levels) {
      path.push(node);
      node = node.children?.get(level);
      if (!node) return false;
    }
    let removed = false;
    if (group === undefined) {
      removed = node.subs?.delete(subscriber) ?? false;
      if (removed) this.subCount--;
    } else {
      const g = node.shared?.get(group);
      if (g?.options.delete(subscriber)) {
        removed = true;
        this.sharedCount--;
        const i = g.members.indexOf(subscriber);
        g.members.splice(i, 1);
        if (g.sticky === subscriber) g.sticky = undefined;
        if (g.members.length === 0) node.shared!.delete(group);
      }
    }
    for (let i = levels.length - 1; i >= 0 && node.isEmpty(); i--) {
      const parent: Node<S> = path[i]!;
      parent.children!.delete(levels[i]!);
      node = parent;
    }
    return removed;
  }

  /** The shared group `group` on exactly the plain filter `filter`, if it has members. */
  sharedGroup(filter: string, group: string): SharedGroup<S> | undefined {
    let node: Node<S> | undefined = this.root;
    for (const level of filter.split('/')) {
      node = node.children?.get(level);
      if (!node) return undefined;
    }
    return node.shared?.get(group);
  }

  /** Visit every subscription matching a topic name. Shared groups are reported once each. */
  match(topic: string, visitor: MatchVisitor<S>): void {
    let nodes = this.matchCache.get(topic);
    if (nodes === undefined) {
      nodes = [];
      // [MQTT-4.7.2-1] `+` and `#` at the first level do not match topics starting with `$`.
      this.walk(this.root, topic.split('/'), 0, nodes, topic.charCodeAt(0) === 36);
      if (topic.length <= MATCH_CACHE_TOPIC_MAX) {
        if (this.matchCache.size >= MATCH_CACHE_MAX) this.matchCache.clear();
        this.matchCache.set(topic, nodes);
      }
    }
    for (let i = 0; i < nodes.length; i++) visit(nodes[i]!, visitor);
  }

  /** Collect the nodes whose subscriptions match `levels` (in the order they are visited). */
  private walk(node: Node<S>, levels: string[], i: number, out: Node<S>[], dollar: boolean): void {
    const children = node.children;
    if (i === levels.length) {
      out.push(node);
      // `a/#` also matches `a` [MQTT-4.7.1-2 note]
      const hash = children?.get('#');
      if (hash) out.push(hash);
      return;
    }
    if (!children) return;
    const wild = !(dollar && i === 0);
    if (wild) {
      const hash = children.get('#');
      if (hash) out.push(hash);
      const plus = children.get('+');
      if (plus) this.walk(plus, levels, i + 1, out, dollar);
    }
    const exact = children.get(levels[i]!);
    if (exact) this.walk(exact, levels, i + 1, out, dollar);
  }
}

/** Topics whose matching nodes `match` keeps; past that it starts over. */
const MATCH_CACHE_MAX = 4096;
/** Longer topic names are matched each time: the cache holds at most about 1 MB of names. */
const MATCH_CACHE_TOPIC_MAX = 256;

function visit<S>(node: Node<S>, v: MatchVisitor<S>): void {
  if (node.subs) for (const [s, o] of node.subs) v.sub(s, o);
  if (node.shared) for (const g of node.shared.values()) v.shared(g);
}
