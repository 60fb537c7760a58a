/**
 * `<jn-gateways-page>`: what is listening (`/listeners`: MQTT over TCP, TLS, WebSocket, QUIC),
 * with stop, start and restart per listener, and each protocol gateway (`/gateways`: MQTT-SN,
 * CoAP, OCPP) with its counters and clients, disable and enable; for OCPP, each charger's state
 * as it reported it (`/gateways/ocpp/clients`). Refreshed every 5 s.
 */
import { LitElement, html } from 'lit';
import { api, seg, type Paged } from '../api.js';
import '../components/confirm-button.js';
import { fmtTime } from '../format.js';
import { Poll } from '../poll.js';
import { href } from '../router.js';
import { shared } from '../styles.js';

interface Listener {
  id: string;
  type: string;
  name: string;
  bind: string;
  running: boolean;
  current_connections: number;
}
interface Gateway {
  name: string;
  status: string;
  protocol: string;
  current_connections: number;
  listeners: Listener[];
  stats: Record<string, number>;
}
interface Connector {
  evse_id?: number;
  connector_id: number;
  status: string;
  error_code?: string;
}
interface GatewayClient {
  clientid: string;
  username: string | null;
  proto_ver: string | number | null;
  ip_address: string;
  connected: boolean;
  connected_at: string;
  charger?: {
    state: string;
    vendor?: string;
    model?: string;
    firmware_version?: string;
    connectors: Connector[];
    last_action?: string;
    last_message_at?: string;
    transaction_id?: string;
  };
}

const TITLES: Readonly<Record<string, string>> = { mqttsn: 'MQTT-SN', coap: 'CoAP', ocpp: 'OCPP', lwm2m: 'LwM2M' };

export class GatewaysPage extends LitElement {
  static override properties = { listeners: { state: true }, gateways: { state: true }, clients: { state: true }, error: { state: true }, notice: { state: true } };
  declare listeners: Listener[];
  declare gateways: Gateway[];
  declare clients: Record<string, GatewayClient[]>;
  declare error: string;
  declare notice: string;
  private readonly poll: Poll;

  constructor() {
    super();
    this.listeners = [];
    this.gateways = [];
    this.clients = {};
    this.error = '';
    this.notice = '';
    this.poll = new Poll(this, () => this.refresh(), 5000);
  }

  /** PUT a control call, then show the outcome and refresh. */
  private async control(path: string, notice: string): Promise<void> {
    try {
      await api.put(path);
      this.notice = notice;
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
      this.notice = '';
    }
    await this.poll.run();
  }

  static override styles = [shared];

  private async refresh(): Promise<void> {
    try {
      const [listeners, gateways] = await Promise.all([api.get<Listener[]>('listeners'), api.get<Gateway[]>('gateways')]);
      const lists = await Promise.all(gateways.map((g) => api.get<Paged<GatewayClient>>(`gateways/${seg(g.name)}/clients?limit=500`).then((r) => r.data)));
      this.listeners = listeners;
      this.gateways = gateways;
      this.clients = Object.fromEntries(gateways.map((g, i) => [g.name, lists[i]!]));
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  override render() {
    return html`
      <h1>Gateways &amp; listeners</h1>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''} ${this.notice ? html`<div class="notice">${this.notice}</div>` : ''}
      <div class="card">
        <h2>MQTT listeners</h2>
        <table id="listeners">
          <thead><tr><th>Listener</th><th>Type</th><th>Bind</th><th>Status</th><th>Connections</th><th></th></tr></thead>
          <tbody>
            ${this.listeners.map(
              (l) => html`<tr data-listener=${l.id}>
                <td class="mono">${l.id}</td>
                <td>${listenerType(l.type)}</td>
                <td class="mono">${l.bind}</td>
                <td>${l.running ? html`<span class="badge ok">running</span>` : html`<span class="badge">stopped</span>`}</td>
                <td>${l.current_connections}</td>
                <td class="actions">
                  ${l.running
                    ? html`<jn-confirm label="Stop" question="Stop? Its clients are disconnected." @confirm=${() => this.control(`listeners/${seg(l.id)}/stop`, `Stopped ${l.id}.`)}></jn-confirm>
                        <button class="small" data-restart @click=${() => this.control(`listeners/${seg(l.id)}/restart`, `Restarted ${l.id}.`)}>Restart</button>`
                    : html`<button class="small" data-start @click=${() => this.control(`listeners/${seg(l.id)}/start`, `Started ${l.id}.`)}>Start</button>`}
                </td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${this.listeners.length === 0 ? html`<div class="empty">No MQTT listener reported.</div>` : ''}
      </div>
      ${this.gateways.length === 0 ? html`<div class="card empty">No protocol gateway (MQTT-SN, CoAP, OCPP) is running. Enable one under <span class="mono">gateway.*</span> in the configuration.</div>` : ''}
      ${this.gateways.map((g) => this.renderGateway(g))}
    `;
  }

  private renderGateway(g: Gateway) {
    const clients = this.clients[g.name] ?? [];
    return html`<div class="card" data-gateway=${g.name}>
      <div class="row" style="margin-bottom:12px">
        <h2 style="margin:0">${TITLES[g.name] ?? g.name}</h2>
        <span class="badge ${g.status === 'running' ? 'ok' : ''}">${g.status}</span>
        <span class="spacer"></span>
        <span class="muted">${g.current_connections} connected</span>
        ${g.status === 'running'
          ? html`<jn-confirm label="Disable" question="Disable? Its clients are disconnected." @confirm=${() => this.control(`gateways/${seg(g.name)}/enable/false`, `Disabled ${g.name}.`)}></jn-confirm>`
          : html`<button class="small" data-enable @click=${() => this.control(`gateways/${seg(g.name)}/enable/true`, `Enabled ${g.name}.`)}>Enable</button>`}
      </div>
      <div class="row" style="margin-bottom:12px">
        ${g.listeners.map((l) => html`<span class="badge info mono">${l.type} ${l.bind}</span>`)}
        ${Object.entries(g.stats).map(([k, v]) => html`<span class="badge">${k.replaceAll('_', ' ')}: ${v}</span>`)}
      </div>
      ${g.name === 'ocpp' ? this.renderChargers(clients) : this.renderClients(clients)}
    </div>`;
  }

  private renderClients(clients: GatewayClient[]) {
    if (clients.length === 0) return html`<div class="empty">No clients.</div>`;
    return html`<table>
      <thead><tr><th>Client ID</th><th>Username</th><th>Address</th><th>Status</th><th>Connected at</th></tr></thead>
      <tbody>
        ${clients.map(
          (c) => html`<tr>
            <td><a class="mono" href=${href('clients', c.clientid)}>${c.clientid}</a></td>
            <td>${c.username ?? '–'}</td>
            <td class="mono">${c.ip_address}</td>
            <td>${c.connected ? html`<span class="badge ok">connected</span>` : html`<span class="badge">disconnected</span>`}</td>
            <td>${fmtTime(c.connected_at)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private renderChargers(clients: GatewayClient[]) {
    if (clients.length === 0) return html`<div class="empty">No charge point is connected.</div>`;
    return html`<table id="chargers">
      <thead><tr><th>Charge point</th><th>State</th><th>Connectors</th><th>Model</th><th>Last message</th></tr></thead>
      <tbody>
        ${clients.map((c) => {
          const ch = c.charger;
          return html`<tr data-charger=${c.clientid}>
            <td><a class="mono" href=${href('clients', c.clientid)}>${c.clientid}</a><div class="muted mono">${c.ip_address}${c.proto_ver ? ` · ${c.proto_ver}` : ''}</div></td>
            <td><span class="badge ${stateClass(ch?.state ?? '')}">${ch?.state ?? '–'}</span>${ch?.transaction_id ? html`<div class="muted">transaction ${ch.transaction_id}</div>` : ''}</td>
            <td>
              ${(ch?.connectors ?? []).map(
                (x) => html`<div><span class="muted">${x.evse_id !== undefined ? `EVSE ${x.evse_id} · ` : ''}#${x.connector_id}</span> <span class="badge ${stateClass(x.status)}">${x.status}</span>${x.error_code ? html` <span class="muted">${x.error_code}</span>` : ''}</div>`,
              )}
              ${(ch?.connectors ?? []).length === 0 ? html`<span class="muted">not reported</span>` : ''}
            </td>
            <td>${[ch?.vendor, ch?.model].filter(Boolean).join(' ') || html`<span class="muted">–</span>`}${ch?.firmware_version ? html`<div class="muted">fw ${ch.firmware_version}</div>` : ''}</td>
            <td>${ch?.last_action ?? ''}<div class="muted">${fmtTime(ch?.last_message_at)}</div></td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }
}

function listenerType(t: string): string {
  return ({ tcp: 'MQTT over TCP', ssl: 'MQTT over TLS', ws: 'MQTT over WebSocket', wss: 'MQTT over secure WebSocket', quic: 'MQTT over QUIC' } as Record<string, string>)[t] ?? t;
}

function stateClass(s: string): string {
  if (['Available', 'Connected', 'Booted'].includes(s)) return 'ok';
  if (['Charging', 'Preparing', 'Finishing', 'Occupied', 'SuspendedEV', 'SuspendedEVSE', 'Reserved'].includes(s)) return 'info';
  if (['Faulted'].includes(s)) return 'bad';
  if (['Unavailable', 'Offline'].includes(s)) return 'warn';
  return '';
}

customElements.define('jn-gateways-page', GatewaysPage);
