/**
 * `<jn-clients-page>`: the clients table (`/clients`, refreshed every 3 s) with search by client
 * id or user name and a kick button; with `clientId` set, one client's details and subscriptions.
 */
import { LitElement, html } from 'lit';
import { api, query, seg, type Paged } from '../api.js';
import '../components/confirm-button.js';
import { fmtTime, plural } from '../format.js';
import { Poll } from '../poll.js';
import { href } from '../router.js';
import { shared } from '../styles.js';

const PAGE_SIZE = 100;

export interface Client {
  clientid: string;
  username: string | null;
  proto_name: string;
  proto_ver: number | string | null;
  ip_address: string;
  port: number;
  listener: string | null;
  connected: boolean;
  connected_at: string;
  disconnected_at?: string;
  created_at: string;
  clean_start: boolean;
  keepalive: number;
  expiry_interval: number;
  subscriptions_cnt: number;
  inflight_cnt: number;
  inflight_max: number;
  mqueue_len: number;
  mqueue_max: number;
}
interface Sub {
  topic: string;
  qos: number;
  nl: number;
  rap: number;
  rh: number;
}

export class ClientsPage extends LitElement {
  static override properties = {
    clientId: { type: String },
    rows: { state: true },
    count: { state: true },
    page: { state: true },
    hasnext: { state: true },
    search: { state: true },
    field: { state: true },
    detail: { state: true },
    subs: { state: true },
    error: { state: true },
    notice: { state: true },
  };
  declare clientId: string;
  declare rows: Client[];
  declare count: number;
  declare page: number;
  declare hasnext: boolean;
  declare search: string;
  declare field: 'clientid' | 'username';
  declare detail: Client | undefined | null;
  declare subs: Sub[];
  declare error: string;
  declare notice: string;
  private readonly poll: Poll;

  constructor() {
    super();
    this.clientId = '';
    this.rows = [];
    this.count = 0;
    this.page = 1;
    this.hasnext = false;
    this.search = '';
    this.field = 'clientid';
    this.detail = undefined;
    this.subs = [];
    this.error = '';
    this.notice = '';
    this.poll = new Poll(this, () => this.refresh(), 3000);
  }

  static override styles = [shared];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('clientId') && changed.get('clientId') !== undefined) {
      this.detail = undefined;
      void this.poll.run();
    }
  }

  private async refresh(): Promise<void> {
    try {
      if (this.clientId) {
        try {
          this.detail = await api.get<Client>(`clients/${seg(this.clientId)}`);
          this.subs = await api.get<Sub[]>(`clients/${seg(this.clientId)}/subscriptions`);
        } catch (err) {
          if ((err as { status?: number }).status !== 404) throw err;
          this.detail = null;
          this.subs = [];
        }
      } else {
        const like = this.search.trim();
        const r = await api.get<Paged<Client>>(`clients${query({ page: this.page, limit: PAGE_SIZE, [this.field === 'clientid' ? 'like_clientid' : 'like_username']: like || undefined })}`);
        if (r.data.length === 0 && this.page > 1) {
          this.page = 1;
          return this.refresh();
        }
        this.rows = r.data;
        this.count = r.meta.count;
        this.hasnext = r.meta.hasnext;
      }
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private turn(by: number): void {
    this.page = Math.max(1, this.page + by);
    void this.poll.run();
  }

  private async kick(id: string): Promise<void> {
    try {
      await api.del(`clients/${seg(id)}`);
      this.notice = `Kicked ${id}.`;
    } catch (err) {
      this.error = (err as Error).message;
    }
    await this.poll.run();
  }

  override render() {
    return this.clientId ? this.renderDetail() : this.renderList();
  }

  private renderList() {
    return html`
      <h1>Clients</h1>
      ${this.error ? html`<div class="error">${this.error}</div>` : ''} ${this.notice ? html`<div class="notice">${this.notice}</div>` : ''}
      <div class="card">
        <form
          class="row"
          style="margin-bottom:12px"
          @submit=${(e: Event) => {
            e.preventDefault();
            void this.poll.run();
          }}
        >
          <select
            id="search-field"
            .value=${this.field}
            @change=${(e: Event) => {
              this.field = (e.target as HTMLSelectElement).value as 'clientid';
              this.page = 1;
              void this.poll.run();
            }}
          >
            <option value="clientid">Client ID</option>
            <option value="username">Username</option>
          </select>
          <input id="search" type="search" placeholder="Search…" .value=${this.search} @input=${(e: Event) => {
            this.search = (e.target as HTMLInputElement).value;
            this.page = 1;
            void this.poll.run();
          }} />
          <span class="spacer"></span>
          <span class="muted">${plural(this.count, 'client')}</span>
        </form>
        <table id="clients">
          <thead>
            <tr><th>Client ID</th><th>Username</th><th>Protocol</th><th>Address</th><th>Status</th><th>Subs</th><th>Connected at</th><th></th></tr>
          </thead>
          <tbody>
            ${this.rows.map(
              (c) => html`<tr data-client=${c.clientid}>
                <td><a href=${href('clients', c.clientid)} class="mono">${c.clientid}</a></td>
                <td>${c.username ?? html`<span class="muted">–</span>`}</td>
                <td>${c.proto_name} ${c.proto_ver ?? ''}</td>
                <td class="mono">${c.ip_address}${c.port ? `:${c.port}` : ''}</td>
                <td>${c.connected ? html`<span class="badge ok">connected</span>` : html`<span class="badge">disconnected</span>`}</td>
                <td>${c.subscriptions_cnt}</td>
                <td>${fmtTime(c.connected_at)}</td>
                <td class="actions">${c.connected ? html`<jn-confirm label="Kick" @confirm=${() => this.kick(c.clientid)}></jn-confirm>` : ''}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${this.rows.length === 0 ? html`<div class="empty">No clients${this.search ? ' match' : ' yet'}.</div>` : ''}
        ${this.page > 1 || this.hasnext
          ? html`<div class="row" style="margin-top:12px;justify-content:flex-end">
              <button class="small" ?disabled=${this.page <= 1} @click=${() => this.turn(-1)}>Previous</button>
              <span class="muted">page ${this.page} of ${Math.max(1, Math.ceil(this.count / PAGE_SIZE))}</span>
              <button class="small" ?disabled=${!this.hasnext} @click=${() => this.turn(1)}>Next</button>
            </div>`
          : ''}
      </div>
    `;
  }

  private renderDetail() {
    const c = this.detail;
    return html`
      <div class="row" style="margin-bottom:16px"><a href=${href('clients')}>← Clients</a></div>
      <h1 class="mono">${this.clientId}</h1>
      ${this.error ? html`<div class="error">${this.error}</div>` : ''} ${this.notice ? html`<div class="notice">${this.notice}</div>` : ''}
      ${c === null
        ? html`<div class="card empty">This client is not known (any more).</div>`
        : c === undefined
          ? html`<div class="card muted">Loading…</div>`
          : html`
              <div class="card">
                <div class="row" style="margin-bottom:12px">
                  <h2 style="margin:0">Connection</h2>
                  ${c.connected ? html`<span class="badge ok">connected</span>` : html`<span class="badge">disconnected</span>`}
                  <span class="spacer"></span>
                  ${c.connected ? html`<jn-confirm label="Kick" question="Disconnect this client?" @confirm=${() => this.kick(c.clientid)}></jn-confirm>` : ''}
                </div>
                <dl class="facts" id="client-facts">
                  <dt>Username</dt><dd>${c.username ?? '–'}</dd>
                  <dt>Protocol</dt><dd>${c.proto_name} ${c.proto_ver ?? ''}</dd>
                  <dt>Address</dt><dd class="mono">${c.ip_address}:${c.port}</dd>
                  <dt>Listener</dt><dd>${c.listener ?? '–'}</dd>
                  <dt>Clean start</dt><dd>${c.clean_start ? 'yes' : 'no'}</dd>
                  <dt>Keepalive</dt><dd>${c.keepalive} s</dd>
                  <dt>Session expiry</dt><dd>${c.expiry_interval} s</dd>
                  <dt>Inflight</dt><dd>${c.inflight_cnt} / ${c.inflight_max}</dd>
                  <dt>Queue</dt><dd>${c.mqueue_len} / ${c.mqueue_max}</dd>
                  <dt>Created</dt><dd>${fmtTime(c.created_at)}</dd>
                  <dt>Connected</dt><dd>${fmtTime(c.connected_at)}</dd>
                  ${c.disconnected_at ? html`<dt>Disconnected</dt><dd>${fmtTime(c.disconnected_at)}</dd>` : ''}
                </dl>
              </div>
              <div class="card">
                <h2>Subscriptions (${this.subs.length})</h2>
                <table>
                  <thead><tr><th>Topic filter</th><th>QoS</th><th>No local</th><th>Retain as published</th><th>Retain handling</th></tr></thead>
                  <tbody>
                    ${this.subs.map((s) => html`<tr><td class="mono">${s.topic}</td><td>${s.qos}</td><td>${s.nl ? 'yes' : 'no'}</td><td>${s.rap ? 'yes' : 'no'}</td><td>${s.rh}</td></tr>`)}
                  </tbody>
                </table>
                ${this.subs.length === 0 ? html`<div class="empty">No subscriptions.</div>` : ''}
              </div>
            `}
    `;
  }
}

customElements.define('jn-clients-page', ClientsPage);
