/**
 * The audit trail: every write through the API (kicks, bans, user and key changes, publishes,
 * logins) becomes one entry, kept in a bounded in-memory ring for `GET /api/v5/audit` and logged
 * as `admin_audit`. Secrets and payloads in request bodies are replaced before they are kept.
 */
import type { Logger } from '@junction/broker-core';
import { LOG } from './log-events.js';

export interface AuditEntry {
  /** Milliseconds since the epoch. */
  readonly created_at: number;
  readonly node: string;
  /** `dashboard` for login tokens, `rest_api` for API keys, `cli` when the ctl says so. */
  readonly from: 'dashboard' | 'rest_api' | 'cli' | 'anonymous';
  /** User name or API key name; for a login, the name that was tried. */
  readonly source: string;
  readonly source_ip: string;
  /** Method and route, e.g. `DELETE /api/v5/clients/:clientid`. */
  readonly operation_id: string;
  /** The first path segment after `/api/v5`, e.g. `clients`. */
  readonly operation_type: string;
  readonly operation_result: 'success' | 'failure';
  readonly http_status_code: number;
  readonly http_method: string;
  readonly http_request: { readonly bindings: Record<string, unknown>; readonly body: unknown };
  readonly duration_ms: number;
}

const REDACTED = '******';
const SECRET_KEY = /pass|pwd|secret|token|payload|correlation_data/i;

/** A copy of a request body with secrets and payloads replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  if (value === null || typeof value !== 'object') return typeof value === 'string' && value.length > 1024 ? `${value.slice(0, 1024)}…` : value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

export class AuditLog {
  private readonly ring: AuditEntry[] = [];
  private next = 0;

  constructor(
    private readonly max: number,
    private readonly log: Logger,
  ) {}

  record(entry: AuditEntry): void {
    this.log.info(
      {
        from: entry.from,
        source: entry.source,
        source_ip: entry.source_ip,
        operation: entry.operation_id,
        bindings: entry.http_request.bindings,
        body: entry.http_request.body,
        status: entry.http_status_code,
        result: entry.operation_result,
        duration_ms: entry.duration_ms,
      },
      LOG.audit,
    );
    if (this.max <= 0) return;
    if (this.ring.length < this.max) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.max;
  }

  /** Newest first. */
  list(): AuditEntry[] {
    const ordered = this.ring.length < this.max ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return ordered.reverse();
  }
}
