/**
 * `<jn-overview-page>`: live charts of connections and messages in/out per second (from
 * `/monitor`, polled every 2 s), the broker's gauges and node facts.
 */
import { LitElement, css, html } from 'lit';
import { api } from '../api.js';
import type { Point } from '../components/line-chart.js';
import '../components/line-chart.js';
import { fmtBytes, fmtDuration, fmtNumber } from '../format.js';
import { Poll } from '../poll.js';
import { shared } from '../styles.js';

interface Sample {
  time_stamp: number;
  connections: number;
  sessions: number;
  subscriptions: number;
  retained_msg_count: number;
  received_msg_rate: number;
  sent_msg_rate: number;
  dropped_msg_rate: number;
}
interface NodeInfo {
  node: string;
  node_status: string;
  version: string;
  uptime: number;
  memory_used: number;
  memory_total: number;
  load1: number;
  load5: number;
  load15: number;
  cpu_count: number;
  runtime: string;
}
type Stats = Record<string, number>;

const WINDOW_MS = 5 * 60_000;

export class OverviewPage extends LitElement {
  static override properties = { samples: { state: true }, node: { state: true }, stats: { state: true }, error: { state: true } };
  declare samples: Sample[];
  declare node: NodeInfo | undefined;
  declare stats: Stats | undefined;
  declare error: string;
  private loaded = false;

  constructor() {
    super();
    this.samples = [];
    this.node = undefined;
    this.stats = undefined;
    this.error = '';
    new Poll(this, () => this.refresh(), 2000);
  }

  static override styles = [
    shared,
    css`
      .tiles {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(130px, 1fr));
        gap: 12px;
        margin-bottom: 16px;
      }
      .tile {
        background: var(--card);
        border: 1px solid var(--line);
        border-radius: 8px;
        padding: 12px 14px;
      }
      .tile .v {
        font-size: 24px;
        font-weight: 600;
        margin-top: 2px;
      }
      .tile .k {
        color: var(--muted);
        font-size: 12px;
      }
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
        gap: 16px;
      }
      .charts .card {
        margin: 0;
      }
    `,
  ];

  private async refresh(): Promise<void> {
    try {
      // The whole window once, then the newest samples (the server samples every second).
      const latest = this.loaded ? 10 : WINDOW_MS / 1000;
      const [fresh, nodes, stats] = await Promise.all([api.get<Sample[]>(`monitor?latest=${latest}`), api.get<NodeInfo[]>('nodes'), api.get<Stats>('stats?aggregate=true')]);
      this.loaded = true;
      const lastT = this.samples.at(-1)?.time_stamp ?? 0;
      const merged = [...this.samples, ...fresh.filter((s) => s.time_stamp > lastT)];
      const since = (merged.at(-1)?.time_stamp ?? 0) - WINDOW_MS;
      this.samples = merged.filter((s) => s.time_stamp > since);
      this.node = nodes[0];
      this.stats = stats;
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  override render() {
    const cur = this.samples.at(-1);
    const pts = (k: keyof Sample): Point[] => this.samples.map((s) => ({ t: s.time_stamp, v: s[k] }));
    const n = this.node;
    const st = this.stats;
    // The x axis grows with the history, from 30 seconds up to five minutes.
    const span = this.samples.length > 1 ? this.samples.at(-1)!.time_stamp - this.samples[0]!.time_stamp : 0;
    const win = Math.min(WINDOW_MS, Math.max(30_000, span));
    const tile = (k: string, v: string, id: string) => html`<div class="tile" data-stat=${id}><div class="k">${k}</div><div class="v">${v}</div></div>`;
    return html`
      <h1>Overview</h1>
      ${this.error ? html`<div class="error">${this.error}</div>` : ''}
      <div class="tiles">
        ${tile('Connections', fmtNumber(cur?.connections ?? 0), 'connections')}
        ${tile('Sessions', fmtNumber(cur?.sessions ?? 0), 'sessions')}
        ${tile('Subscriptions', fmtNumber(cur?.subscriptions ?? 0), 'subscriptions')}
        ${tile('Topics', fmtNumber(st?.['topics.count'] ?? 0), 'topics')}
        ${tile('Retained', fmtNumber(cur?.retained_msg_count ?? 0), 'retained')}
        ${tile('Messages in/s', fmtNumber(cur?.received_msg_rate ?? 0), 'in')}
        ${tile('Messages out/s', fmtNumber(cur?.sent_msg_rate ?? 0), 'out')}
      </div>
      <div class="charts">
        <div class="card">
          <h2>Connections</h2>
          <jn-line-chart id="chart-connections" .window=${win} .series=${[{ name: 'connections', color: '#2563eb', points: pts('connections') }, { name: 'subscriptions', color: '#8b5cf6', points: pts('subscriptions') }]}></jn-line-chart>
        </div>
        <div class="card">
          <h2>Messages per second</h2>
          <jn-line-chart
            id="chart-messages"
            unit="/s"
            .window=${win}
            .series=${[
              { name: 'in', color: '#16a34a', points: pts('received_msg_rate') },
              { name: 'out', color: '#ea580c', points: pts('sent_msg_rate') },
              { name: 'dropped', color: '#dc2626', points: pts('dropped_msg_rate') },
            ]}
          ></jn-line-chart>
        </div>
      </div>
      <div class="card" style="margin-top:16px">
        <h2>Node</h2>
        ${n
          ? html`<dl class="facts" id="node-info">
              <dt>Name</dt><dd>${n.node} <span class="badge ok">${n.node_status}</span></dd>
              <dt>Version</dt><dd>${n.version}</dd>
              <dt>Uptime</dt><dd>${fmtDuration(n.uptime)}</dd>
              <dt>Memory</dt><dd>${fmtBytes(n.memory_used)} used of ${fmtBytes(n.memory_total)}</dd>
              <dt>Load</dt><dd>${n.load1.toFixed(2)} / ${n.load5.toFixed(2)} / ${n.load15.toFixed(2)} (${n.cpu_count} CPUs)</dd>
              <dt>Runtime</dt><dd>${n.runtime}</dd>
            </dl>`
          : html`<div class="muted">Loading…</div>`}
      </div>
    `;
  }
}

customElements.define('jn-overview-page', OverviewPage);
