import type { LocalLink } from '@junction/cluster';

/** What a gateway started as one of the `node.workers` processes needs to know. */
export interface WorkerRole {
  /** 1..N; a restarted worker keeps the index of the one it replaces. */
  readonly index: number;
  /** The link to the other workers, through the primary process (started: retained loaded). */
  readonly link: LocalLink;
  /**
   * Whether this worker runs `part`: an adapter type (`listeners.tcp`), `admin` or `sources`.
   * Stream listeners run in every worker (node:cluster shares their ports); datagram listeners,
   * the admin API and ingress bridges run in worker 1 only.
   */
  runs(part: string): boolean;
}
