/**
 * `<jn-app>`: the shell. Without a session it shows the login page; with one, the navigation
 * and the page the hash names (`#/clients`, `#/rules/my_rule`, ...).
 */
import { LitElement, css, html, type TemplateResult } from 'lit';
import { api } from './api.js';
import { currentRoute, href, type Route } from './router.js';
import { shared } from './styles.js';
import './pages/banned-page.js';
import './pages/clients-page.js';
import './pages/diagnose-page.js';
import './pages/gateways-page.js';
import './pages/login-page.js';
import './pages/overview-page.js';
import './pages/retained-page.js';
import './pages/rules-page.js';
import './pages/topics-page.js';
import './pages/users-page.js';

interface NavItem {
  page: string;
  label: string;
  icon: string;
  render(args: readonly string[]): TemplateResult;
}

const NAV: readonly NavItem[] = [
  { page: 'overview', label: 'Overview', icon: 'M3 13h4v7H3zM10 8h4v12h-4zM17 4h4v16h-4z', render: () => html`<jn-overview-page></jn-overview-page>` },
  { page: 'clients', label: 'Clients', icon: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0', render: (a) => html`<jn-clients-page .clientId=${a[0] ?? ''}></jn-clients-page>` },
  { page: 'topics', label: 'Topics', icon: 'M4 6h16M4 12h16M4 18h10', render: (a) => html`<jn-topics-page .tab=${a[0] ?? 'topics'}></jn-topics-page>` },
  { page: 'retained', label: 'Retained', icon: 'M6 3h12v18l-6-4-6 4z', render: () => html`<jn-retained-page></jn-retained-page>` },
  { page: 'rules', label: 'Rules', icon: 'M4 4h16v4H4zM4 10h10v4H4zM4 16h16v4H4z', render: (a) => html`<jn-rules-page .ruleId=${a[0] ?? ''}></jn-rules-page>` },
  { page: 'banned', label: 'Banned', icon: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM5.6 5.6l12.8 12.8', render: () => html`<jn-banned-page></jn-banned-page>` },
  { page: 'users', label: 'Users', icon: 'M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 20a6 6 0 0 1 12 0M16 11a3 3 0 1 0 0-6M18 20a6 6 0 0 0-3-5.2', render: () => html`<jn-users-page></jn-users-page>` },
  { page: 'gateways', label: 'Gateways', icon: 'M4 7h16v10H4zM8 17v3M16 17v3M8 11h.01M12 11h.01', render: () => html`<jn-gateways-page></jn-gateways-page>` },
  { page: 'diagnose', label: 'Diagnose', icon: 'M10 4a6 6 0 1 0 0 12 6 6 0 0 0 0-12zM14.5 14.5 20 20', render: () => html`<jn-diagnose-page></jn-diagnose-page>` },
];

export class App extends LitElement {
  static override properties = { route: { state: true }, loggedIn: { state: true } };
  declare route: Route;
  declare loggedIn: boolean;

  private readonly onHash = () => (this.route = currentRoute());
  private readonly onSession = () => (this.loggedIn = api.token !== null);

  constructor() {
    super();
    this.route = currentRoute();
    this.loggedIn = api.token !== null;
  }

  static override styles = [
    shared,
    css`
      :host {
        min-height: 100vh;
        background: var(--bg);
      }
      .layout {
        display: grid;
        grid-template-columns: 208px 1fr;
        min-height: 100vh;
      }
      nav {
        background: #fff;
        border-right: 1px solid var(--line);
        padding: 16px 10px;
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 8px;
        font-weight: 700;
        font-size: 16px;
        padding: 4px 10px 18px;
      }
      .brand .dot {
        width: 22px;
        height: 22px;
        border-radius: 6px;
        background: var(--accent);
        display: grid;
        place-items: center;
        color: #fff;
        font-size: 13px;
      }
      nav a {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 8px 10px;
        border-radius: 6px;
        color: var(--text);
        margin-bottom: 2px;
      }
      nav a:hover {
        background: #f3f4f6;
        text-decoration: none;
      }
      nav a.on {
        background: var(--accent-soft);
        color: var(--accent);
        font-weight: 500;
      }
      nav svg {
        width: 18px;
        height: 18px;
        fill: none;
        stroke: currentColor;
        stroke-width: 1.8;
        stroke-linecap: round;
        stroke-linejoin: round;
      }
      header {
        display: flex;
        align-items: center;
        justify-content: flex-end;
        gap: 12px;
        padding: 10px 24px;
        background: #fff;
        border-bottom: 1px solid var(--line);
      }
      main {
        padding: 24px;
        max-width: 1280px;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    api.addEventListener('session', this.onSession);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHash);
    api.removeEventListener('session', this.onSession);
  }

  override render() {
    if (!this.loggedIn) return html`<jn-login-page></jn-login-page>`;
    const item = NAV.find((n) => n.page === this.route.page) ?? NAV[0]!;
    return html`
      <div class="layout">
        <nav aria-label="Main">
          <div class="brand"><span class="dot">J</span>Junction</div>
          ${NAV.map(
            (n) => html`<a href=${href(n.page)} class=${n === item ? 'on' : ''} data-nav=${n.page}>
              <svg viewBox="0 0 24 24" aria-hidden="true"><path d=${n.icon}></path></svg>${n.label}
            </a>`,
          )}
        </nav>
        <div>
          <header>
            <span class="muted">Signed in as <b>${api.username}</b></span>
            <button class="small" id="logout" @click=${() => api.logout()}>Log out</button>
          </header>
          <main>${item.render(this.route.args)}</main>
        </div>
      </div>
    `;
  }
}

customElements.define('jn-app', App);
