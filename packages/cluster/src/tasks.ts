/** Background registry work of a node, so that `close()` can wait for it. */
export class Tasks {
  private readonly running = new Set<Promise<unknown>>();

  /** Remember `p` until it settles; returns it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = () => this.running.delete(p);
    void p.then(done, done);
    return p;
  }

  /** Resolves once everything tracked so far has settled. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
