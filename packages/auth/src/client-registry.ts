import type { ClientInfo, Hooks } from '@junction/broker-core';

/**
 * The connected clients, from the core's notifications: what bans, expiring tokens and
 * `deny_action: disconnect` need to find and kick. Keyed by client id; the `ClientInfo` object
 * identifies one connection, so a kick never hits a newer connection of the same client id.
 */
export class ClientRegistry {
  private readonly byId = new Map<string, ClientInfo>();
  private readonly off: (() => void)[] = [];
  private readonly connectedListeners: ((c: ClientInfo) => void)[] = [];
  private readonly disconnectedListeners: ((c: ClientInfo) => void)[] = [];

  constructor(hooks: Hooks) {
    this.off.push(
      hooks.on('client.connected', (client) => {
        this.byId.set(client.clientId, client);
        for (const fn of this.connectedListeners) fn(client);
      }),
      hooks.on('client.disconnected', (client) => {
        if (this.byId.get(client.clientId) === client) this.byId.delete(client.clientId);
        for (const fn of this.disconnectedListeners) fn(client);
      }),
    );
  }

  onConnected(fn: (c: ClientInfo) => void): void {
    this.connectedListeners.push(fn);
  }

  onDisconnected(fn: (c: ClientInfo) => void): void {
    this.disconnectedListeners.push(fn);
  }

  /** True while this exact connection is the live one for its client id. */
  isCurrent(client: ClientInfo): boolean {
    return this.byId.get(client.clientId) === client;
  }

  get(clientId: string): ClientInfo | undefined {
    return this.byId.get(clientId);
  }

  all(): IterableIterator<ClientInfo> {
    return this.byId.values();
  }

  close(): void {
    for (const off of this.off.splice(0)) off();
    this.byId.clear();
  }
}
