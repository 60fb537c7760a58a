/**
 * The heartbeat interval a charger will use, read from the answers it gets. The gateway
 * disconnects a charger that stays silent longer than that (times `heartbeat_checking_times_backoff`).
 */
import type { OcppVersion } from '../frames.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function positive(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The back end answered the charger's BootNotification: Accepted with `interval` sets the
 * heartbeat interval (OCPP 1.6 §4.2, 2.0.1 B01.FR.04). Other statuses leave it as it is.
 */
export function intervalFromBoot(response: unknown): number | undefined {
  const r = obj(response);
  if (r?.status !== 'Accepted') return undefined;
  return positive(r.interval);
}

/**
 * The charger accepted a CALL from the back end that changes its heartbeat interval:
 * 1.6 ChangeConfiguration of `HeartbeatInterval` (§9.1.10), 2.0.1 SetVariables of
 * `HeartbeatCtrlr.Interval` (B05, Actual attribute).
 */
export function intervalFromConfiguration(version: OcppVersion, action: string, request: unknown, response: unknown): number | undefined {
  const req = obj(request);
  const res = obj(response);
  if (!req || !res) return undefined;
  if (version === '1.6') {
    if (action !== 'ChangeConfiguration' || req.key !== 'HeartbeatInterval' || res.status !== 'Accepted') return undefined;
    return positive(req.value);
  }
  if (action !== 'SetVariables' || !Array.isArray(req.setVariableData) || !Array.isArray(res.setVariableResult)) return undefined;
  const isInterval = (e: Obj | undefined) =>
    obj(e?.component)?.name === 'HeartbeatCtrlr' && obj(e?.variable)?.name === 'Interval' && (e?.attributeType ?? 'Actual') === 'Actual';
  const set = (req.setVariableData as unknown[]).map(obj).find(isInterval);
  const accepted = (res.setVariableResult as unknown[]).map(obj).find((e) => isInterval(e) && e?.attributeStatus === 'Accepted');
  return set && accepted ? positive(set.attributeValue) : undefined;
}
