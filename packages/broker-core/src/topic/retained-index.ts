/**
 * A trie over topic levels holding at most one value per exact topic name: the index behind
 * retained messages. A wildcard filter is answered by walking the trie with the filter's levels,
 * descending only into matching branches, never by scanning all entries.
 *
 * Levels may be empty (`a//b`, `/a`, `a/`). All walks are iterative, so very deep topics (up to
 * 65535 levels) cannot overflow the call stack.
 */

const DOLLAR = 0x24; // '$'

class Node<V> {
  /** Child nodes keyed by level; created lazily. */
  children: Map<string, Node<V>> | undefined = undefined;
  /** The full topic when this node holds a value; undefined otherwise. */
  topic: string | undefined = undefined;
  value: V | undefined = undefined;
}

export class RetainedIndex<V> {
  readonly #root = new Node<V>();
  #size = 0;

  /** Number of stored topics. */
  get size(): number {
    return this.#size;
  }

  /** Stores `value` under `topic`, replacing any previous one; true if the topic was new. */
  set(topic: string, value: V): boolean {
    const levels = topic.split('/');
    let node = this.#root;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      let children = node.children;
      if (children === undefined) {
        children = new Map();
        node.children = children;
      }
      let child = children.get(level);
      if (child === undefined) {
        child = new Node<V>();
        children.set(level, child);
      }
      node = child;
    }
    const isNew = node.topic === undefined;
    // Keep the caller's string so that matches hand back the exact topic without rebuilding it.
    node.topic = topic;
    node.value = value;
    if (isNew) this.#size++;
    return isNew;
  }

  get(topic: string): V | undefined {
    const node = this.#find(topic);
    return node?.topic === undefined ? undefined : node.value;
  }

  has(topic: string): boolean {
    return this.#find(topic)?.topic !== undefined;
  }

  /** Removes the value of `topic`, pruning nodes left empty; true if there was one. */
  delete(topic: string): boolean {
    const levels = topic.split('/');
    const path: Node<V>[] = [this.#root];
    let node = this.#root;
    for (let i = 0; i < levels.length; i++) {
      const child = node.children?.get(levels[i]!);
      if (child === undefined) return false;
      path.push(child);
      node = child;
    }
    if (node.topic === undefined) return false;
    node.topic = undefined;
    node.value = undefined;
    this.#size--;
    // Prune from the leaf upwards while nodes hold neither a value nor children.
    for (let i = levels.length; i > 0; i--) {
      const n = path[i]!;
      if (n.topic !== undefined || (n.children !== undefined && n.children.size > 0)) break;
      const parent = path[i - 1]!;
      parent.children!.delete(levels[i - 1]!);
      if (parent.children!.size === 0) parent.children = undefined;
    }
    return true;
  }

  /** Removes everything. */
  clear(): void {
    this.#root.children = undefined;
    this.#size = 0;
  }

  /**
   * Calls `visit` for every stored topic matched by the (plain, valid) `filter`. Do not modify
   * the index from inside `visit`.
   *
   * A filter whose first level is `+` or `#` skips topics whose first level starts with `$`
   * [MQTT-4.7.2-1].
   */
  match(filter: string, visit: (topic: string, value: V) => void): void {
    const levels = filter.split('/');
    const n = levels.length;
    // Depth-first over (node, index of the filter level to apply at that node).
    const nodes: Node<V>[] = [this.#root];
    const depths: number[] = [0];
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const i = depths.pop()!;
      if (i === n) {
        if (node.topic !== undefined) visit(node.topic, node.value as V);
        continue;
      }
      const level = levels[i]!;
      if (level === '#') {
        // [MQTT-4.7.1-1] '#' matches the parent level and any number of child levels.
        this.#collect(node, i === 0, visit);
        continue;
      }
      const children = node.children;
      if (children === undefined) continue;
      if (level === '+') {
        for (const [key, child] of children) {
          // [MQTT-4.7.2-1] no wildcard match of '$' topics at the first level.
          if (i === 0 && key.charCodeAt(0) === DOLLAR) continue;
          nodes.push(child);
          depths.push(i + 1);
        }
      } else {
        const child = children.get(level);
        if (child !== undefined) {
          nodes.push(child);
          depths.push(i + 1);
        }
      }
    }
  }

  /** Visits `start` and its whole subtree; at the root, skips `$` first levels. */
  #collect(start: Node<V>, atRoot: boolean, visit: (topic: string, value: V) => void): void {
    const stack: Node<V>[] = [];
    if (atRoot) {
      if (start.children === undefined) return;
      for (const [key, child] of start.children) {
        // [MQTT-4.7.2-1]
        if (key.charCodeAt(0) !== DOLLAR) stack.push(child);
      }
    } else {
      stack.push(start);
    }
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.topic !== undefined) visit(node.topic, node.value as V);
      if (node.children !== undefined) for (const child of node.children.values()) stack.push(child);
    }
  }

  /** All stored `[topic, value]` pairs, in no particular order. */
  *entries(): IterableIterator<[string, V]> {
    const stack: Node<V>[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.topic !== undefined) yield [node.topic, node.value as V];
      if (node.children !== undefined) for (const child of node.children.values()) stack.push(child);
    }
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Number of trie nodes below the root (for tests: 0 once everything has been deleted). */
  nodeCount(): number {
    let count = 0;
    const stack: Node<V>[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.children === undefined) continue;
      for (const child of node.children.values()) {
        count++;
        stack.push(child);
      }
    }
    return count;
  }

  #find(topic: string): Node<V> | undefined {
    let node: Node<V> | undefined = this.#root;
    let start = 0;
    // Walk level by level without allocating the split array.
    for (;;) {
      let end = topic.indexOf('/', start);
      if (end < 0) end = topic.length;
      node = node.children?.get(topic.slice(start, end));
      if (node === undefined) return undefined;
      if (end === topic.length) return node;
      start = end + 1;
    }
  }
}
