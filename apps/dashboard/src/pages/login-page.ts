/** `<jn-login-page>`: user name and password → a token (`POST /api/v5/login`). */
import { LitElement, css, html } from 'lit';
import { api } from '../api.js';
import { shared } from '../styles.js';

export class LoginPage extends LitElement {
  static override properties = { error: { state: true }, busy: { state: true } };
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.error = '';
    this.busy = false;
  }

  static override styles = [
    shared,
    css`
      :host {
        min-height: 100vh;
        display: grid;
        place-items: center;
        background: var(--bg);
      }
      form {
        width: 340px;
        padding: 28px;
        display: flex;
        flex-direction: column;
        gap: 14px;
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 10px;
        font-size: 20px;
        font-weight: 700;
      }
      .dot {
        width: 28px;
        height: 28px;
        border-radius: 7px;
        background: var(--accent);
        color: #fff;
        display: grid;
        place-items: center;
        font-size: 15px;
      }
      input {
        font-size: 15px;
        padding: 8px 10px;
      }
      button {
        padding: 9px;
        font-size: 15px;
      }
      .error {
        margin: 0;
      }
    `,
  ];

  override render() {
    return html`
      <form class="card" @submit=${this.submit}>
        <div class="brand"><span class="dot">J</span>Junction</div>
        <div class="muted">Sign in to manage the broker.</div>
        ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''}
        <label>User name <input name="username" autocomplete="username" required value="admin" /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    `;
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.error = '';
    try {
      await api.login(String(form.get('username')), String(form.get('password')));
      if (!location.hash || location.hash === '#/') location.hash = '#/overview';
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('jn-login-page', LoginPage);
