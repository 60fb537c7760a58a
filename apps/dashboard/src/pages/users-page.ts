/**
 * `<jn-users-page>`: the built-in MQTT users of password authentication
 * (`/authentication/password_based:built_in_database/users`): add, change password or superuser
 * flag, delete.
 */
import { LitElement, html } from 'lit';
import { api, query, seg, type Paged } from '../api.js';
import '../components/confirm-button.js';
import { plural } from '../format.js';
import { ListState } from '../list-state.js';
import { shared } from '../styles.js';

interface User {
  user_id: string;
  is_superuser: boolean;
}

const BASE = `authentication/${seg('password_based:built_in_database')}/users`;

export class UsersPage extends LitElement {
  static override properties = { search: { state: true }, editing: { state: true } };
  declare search: string;
  declare editing: string;
  private readonly list = new ListState<User>(this, {
    load: async () => (await api.get<Paged<User>>(`${BASE}${query({ limit: 1000, like_user_id: this.search.trim() || undefined })}`)).data,
    ms: 10_000,
    loadError: (err) => ((err as { status?: number }).status === 501 ? 'Built-in users are not available: no password_based built_in_database authenticator is configured.' : (err as Error).message),
  });

  constructor() {
    super();
    this.search = '';
    this.editing = '';
  }

  static override styles = [shared];

  private async add(f: FormData): Promise<string> {
    const user = { user_id: String(f.get('user_id')).trim(), password: String(f.get('password')), is_superuser: f.get('is_superuser') === 'on' };
    await api.post(BASE, user);
    return `Added ${user.user_id}.`;
  }

  private saveUser(e: SubmitEvent, u: User): Promise<void> {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const password = String(f.get('password') ?? '');
    return this.list.run(async () => {
      await api.put(`${BASE}/${seg(u.user_id)}`, { ...(password ? { password } : {}), is_superuser: f.get('is_superuser') === 'on' });
      this.editing = '';
      return `Saved ${u.user_id}.`;
    });
  }

  private drop(u: User): Promise<void> {
    return this.list.run(async () => {
      await api.del(`${BASE}/${seg(u.user_id)}`);
      return `Deleted ${u.user_id}.`;
    });
  }

  override render() {
    return html`
      <h1>Built-in MQTT users</h1>
      <p class="muted" style="margin-top:-8px">Users of password authentication (<span class="mono">password_based</span>, <span class="mono">built_in_database</span>). Dashboard logins are separate.</p>
      ${this.list.messages()}
      <div class="card">
        <h2>Add a user</h2>
        <form class="row" id="user-form" @submit=${(e: SubmitEvent) => this.list.submit(e, (f) => this.add(f))} style="align-items:flex-end">
          <label>Username <input name="user_id" required autocomplete="off" /></label>
          <label>Password <input name="password" type="password" required autocomplete="new-password" /></label>
          <label class="check"><input type="checkbox" name="is_superuser" /> Superuser</label>
          <button class="primary" type="submit">Add</button>
        </form>
      </div>
      <div class="card">
        <div class="row" style="margin-bottom:12px">
          <input type="search" placeholder="Search users…" .value=${this.search} @input=${(e: Event) => {
            this.search = (e.target as HTMLInputElement).value;
            void this.list.poll.run();
          }} />
          <span class="spacer"></span><span class="muted">${plural(this.list.rows.length, 'user')}</span>
        </div>
        <table id="users">
          <thead><tr><th>Username</th><th>Superuser</th><th></th></tr></thead>
          <tbody>
            ${this.list.rows.map((u) =>
              this.editing === u.user_id
                ? html`<tr>
                    <td class="mono">${u.user_id}</td>
                    <td colspan="2">
                      <form class="row" @submit=${(e: SubmitEvent) => this.saveUser(e, u)}>
                        <input name="password" type="password" placeholder="new password (unchanged if empty)" autocomplete="new-password" />
                        <label class="check"><input type="checkbox" name="is_superuser" ?checked=${u.is_superuser} /> Superuser</label>
                        <button class="primary small" type="submit">Save</button>
                        <button class="small" type="button" @click=${() => (this.editing = '')}>Cancel</button>
                      </form>
                    </td>
                  </tr>`
                : html`<tr data-user=${u.user_id}>
                    <td class="mono">${u.user_id}</td>
                    <td>${u.is_superuser ? html`<span class="badge warn">superuser</span>` : html`<span class="muted">no</span>`}</td>
                    <td class="actions"><button class="small" @click=${() => (this.editing = u.user_id)}>Edit</button> <jn-confirm @confirm=${() => this.drop(u)}></jn-confirm></td>
                  </tr>`,
            )}
          </tbody>
        </table>
        ${this.list.rows.length === 0 && !this.list.error ? html`<div class="empty">No users.</div>` : ''}
      </div>
    `;
  }
}

customElements.define('jn-users-page', UsersPage);
