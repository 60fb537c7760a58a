/**
 * The state of each OCPP charge point, for the dashboard's gateway page: what the chargers
 * themselves reported in the CALLs the OCPP gateway publishes on the bus (EMQX's mapping:
 * `{MessageTypeId: 2, UniqueId, Action, Payload}` from a client of protocol `ocpp`):
 * BootNotification (vendor, model, firmware), StatusNotification (per connector: Available,
 * Charging, Faulted, ...), TransactionEvent / Start- and StopTransaction, and the time of the
 * last message. The publish interceptor is installed only once an OCPP client has connected, so
 * brokers without chargers pay nothing on their publish path.
 */
import type { Hooks, Message } from '@junction/broker-core';

export interface ConnectorState {
  /** OCPP 2.0.1 EVSE id; absent for 1.6. */
  evse_id?: number;
  connector_id: number;
  status: string;
  error_code?: string;
  /** Milliseconds since the epoch. */
  updated_at: number;
}

export interface ChargerState {
  vendor?: string;
  model?: string;
  firmware_version?: string;
  serial_number?: string;
  connectors: ConnectorState[];
  /** An open transaction (StartTransaction / TransactionEvent Started, until Stop / Ended). */
  transaction_id?: string;
  last_action?: string;
  last_message_at?: number;
  boot_at?: number;
}

const MAX_PAYLOAD = 64 * 1024;
const MAX_CONNECTORS = 64;

export class ChargerTracker {
  private readonly chargers = new Map<string, ChargerState>();
  private readonly unhook: (() => void)[] = [];
  private intercepting = false;

  constructor(
    private readonly hooks: Hooks,
    private readonly now: () => number,
  ) {
    this.unhook.push(
      hooks.on('client.connected', (client) => {
        if (client.protocol !== 'ocpp') return;
        this.listen();
        if (!this.chargers.has(client.clientId)) this.chargers.set(client.clientId, { connectors: [] });
      }),
      hooks.on('session.terminated', (clientId) => void this.chargers.delete(clientId)),
    );
  }

  get(clientId: string): ChargerState | undefined {
    return this.chargers.get(clientId);
  }

  close(): void {
    for (const off of this.unhook.splice(0)) off();
    this.chargers.clear();
  }

  private listen(): void {
    if (this.intercepting) return;
    this.intercepting = true;
    this.unhook.push(
      this.hooks.intercept('message.publish', (msg) => {
        if (msg.from.protocol === 'ocpp') this.observe(msg);
        return msg;
      }),
    );
  }

  /** One message from a charger; anything unexpected is ignored. */
  observe(msg: Message): void {
    if (msg.payload.length > MAX_PAYLOAD) return;
    let frame: { MessageTypeId?: unknown; Action?: unknown; Payload?: unknown };
    try {
      frame = JSON.parse(msg.payload.toString('utf8')) as typeof frame;
    } catch {
      return;
    }
    if (frame === null || typeof frame !== 'object' || frame.MessageTypeId !== 2 || typeof frame.Action !== 'string') return;
    const state = this.chargers.get(msg.from.clientId) ?? { connectors: [] };
    this.chargers.set(msg.from.clientId, state);
    const t = this.now();
    state.last_action = frame.Action;
    state.last_message_at = t;
    const p = (frame.Payload ?? {}) as Record<string, unknown>;
    if (typeof p !== 'object') return;
    switch (frame.Action) {
      case 'BootNotification': {
        // 1.6: chargePointVendor, chargePointModel; 2.0.1: chargingStation { vendorName, model }.
        const cs = (p.chargingStation ?? {}) as Record<string, unknown>;
        state.vendor = str(p.chargePointVendor) ?? str(cs.vendorName);
        state.model = str(p.chargePointModel) ?? str(cs.model);
        state.firmware_version = str(p.firmwareVersion) ?? str(cs.firmwareVersion);
        state.serial_number = str(p.chargePointSerialNumber) ?? str(p.chargeBoxSerialNumber) ?? str(cs.serialNumber);
        state.boot_at = t;
        break;
      }
      case 'StatusNotification': {
        // 1.6: connectorId, status, errorCode; 2.0.1: evseId, connectorId, connectorStatus.
        const status = str(p.status) ?? str(p.connectorStatus);
        const connectorId = num(p.connectorId);
        if (status === undefined || connectorId === undefined) break;
        const evseId = num(p.evseId);
        const c: ConnectorState = { connector_id: connectorId, status, updated_at: t };
        if (evseId !== undefined) c.evse_id = evseId;
        const errorCode = str(p.errorCode);
        if (errorCode !== undefined && errorCode !== 'NoError') c.error_code = errorCode;
        const i = state.connectors.findIndex((x) => x.connector_id === connectorId && x.evse_id === evseId);
        if (i >= 0) state.connectors[i] = c;
        else if (state.connectors.length < MAX_CONNECTORS) {
          state.connectors.push(c);
          state.connectors.sort((a, b) => (a.evse_id ?? 0) - (b.evse_id ?? 0) || a.connector_id - b.connector_id);
        }
        break;
      }
      case 'StartTransaction':
        state.transaction_id = 'open';
        break;
      case 'StopTransaction':
        state.transaction_id = undefined;
        break;
      case 'TransactionEvent': {
        const info = (p.transactionInfo ?? {}) as Record<string, unknown>;
        if (p.eventType === 'Ended') state.transaction_id = undefined;
        else state.transaction_id = str(info.transactionId) ?? 'open';
        break;
      }
    }
  }
}

/** A one-word summary: Faulted, Charging, Available, ... (the most telling connector status). */
export function chargerSummary(state: ChargerState | undefined, connected: boolean): string {
  if (!connected) return 'Offline';
  const statuses = (state?.connectors ?? []).map((c) => c.status);
  for (const s of ['Faulted', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Occupied', 'Preparing', 'Finishing', 'Reserved', 'Unavailable', 'Available']) {
    if (statuses.includes(s)) return s;
  }
  return statuses[0] ?? (state?.boot_at !== undefined ? 'Booted' : 'Connected');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 256 ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}
