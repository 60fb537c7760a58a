/**
 * Validation of OCPP payloads against the official OCPP 1.6 and 2.0.1 JSON schemas, with the
 * validators of ocpp-rpc's strict mode (Ajv; the error code follows the failing keyword:
 * FormatViolation, OccurrenceConstraintViolation, PropertyConstraintViolation,
 * TypeConstraintViolation). `json_schema_dir` replaces the 1.6 set with the files of a directory,
 * as EMQX loads them (`{Action}.json` / `{Action}Response.json`, draft-04 `id`s).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConfigError } from '@junction/broker-core';
import ocppRpc from 'ocpp-rpc';
import { errorCodeFor, type OcppVersion } from './frames.js';

const require = createRequire(import.meta.url);

/** Why a payload failed validation: an OCPP RPC error code, a description and details. */
export interface ValidationFailure {
  code: string;
  description: string;
  details: { errors: unknown[] };
}

/** The schemas of one OCPP version. */
export interface MessageSchemas {
  readonly version: OcppVersion;
  /** The action has request and response schemas. */
  knows(action: string): boolean;
  /** Checks a CALL payload; undefined when valid. */
  request(action: string, payload: unknown): ValidationFailure | undefined;
  /** Checks a CALLRESULT payload; undefined when valid. */
  response(action: string, payload: unknown): ValidationFailure | undefined;
}

interface RawSchema {
  $id?: string;
  id?: string;
  $schema?: string;
  [key: string]: unknown;
}

interface RpcValidator {
  validate(schemaId: string, params: unknown): boolean;
}

interface RpcErrorLike {
  rpcErrorCode?: string;
  message?: string;
  details?: { errors?: unknown[] };
}

/** How many Ajv errors go into ErrorDetails. */
const MAX_ERRORS = 5;

class SchemaSet implements MessageSchemas {
  private readonly actions = new Set<string>();

  constructor(
    readonly version: OcppVersion,
    private readonly validator: RpcValidator,
    ids: Iterable<string>,
    private readonly requestId: (action: string) => string,
    private readonly responseId: (action: string) => string,
  ) {
    const all = new Set(ids);
    for (const id of all) {
      for (const action of [actionOf(id, requestId), actionOf(id, responseId)]) {
        if (action && all.has(requestId(action)) && all.has(responseId(action))) this.actions.add(action);
      }
    }
  }

  knows(action: string): boolean {
    return this.actions.has(action);
  }

  request(action: string, payload: unknown): ValidationFailure | undefined {
    return this.check(this.requestId(action), action, payload);
  }

  response(action: string, payload: unknown): ValidationFailure | undefined {
    return this.check(this.responseId(action), action, payload);
  }

  private check(schemaId: string, action: string, payload: unknown): ValidationFailure | undefined {
    if (!this.actions.has(action)) {
      return { code: 'NotImplemented', description: `unknown action ${JSON.stringify(action)} in OCPP ${this.version}`, details: { errors: [] } };
    }
    try {
      this.validator.validate(schemaId, payload);
      return undefined;
    } catch (err) {
      const e = err as RpcErrorLike;
      const errors = (e.details?.errors ?? []).slice(0, MAX_ERRORS).map(brief);
      return { code: errorCodeFor(this.version, e.rpcErrorCode ?? 'FormatViolation'), description: e.message ?? 'invalid payload', details: { errors } };
    }
  }
}

/** An Ajv error without the schema and data it carries. */
function brief(e: unknown): unknown {
  if (e === null || typeof e !== 'object') return e;
  const { instancePath, keyword, message, params } = e as Record<string, unknown>;
  return { instancePath, keyword, message, params };
}

function actionOf(id: string, idFor: (action: string) => string): string | undefined {
  const marker = '\u0000';
  const [prefix, suffix] = idFor(marker).split(marker) as [string, string];
  if (!id.startsWith(prefix) || !id.endsWith(suffix) || id.length <= prefix.length + suffix.length) return undefined;
  return id.slice(prefix.length, id.length - suffix.length);
}

function bundled(version: OcppVersion): MessageSchemas {
  const file = version === '1.6' ? 'ocpp-rpc/lib/schemas/ocpp1_6.json' : 'ocpp-rpc/lib/schemas/ocpp2_0_1.json';
  const schemas = require(file) as RawSchema[];
  const validator = ocppRpc.createValidator(`ocpp${version}`, schemas) as unknown as RpcValidator;
  return new SchemaSet(
    version,
    validator,
    schemas.map((s) => s.$id ?? ''),
    (a) => `urn:${a}.req`,
    (a) => `urn:${a}.conf`,
  );
}

/** Loads EMQX-style schema files: draft-04 `id`s become `$id`, `$schema` is dropped. */
function fromDirectory(dir: string, idPrefix: string): MessageSchemas {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (err) {
    throw new ConfigError('gateway.ocpp.json_schema_dir', `cannot read ${JSON.stringify(dir)}: ${(err as Error).message}`);
  }
  const schemas: RawSchema[] = [];
  for (const f of files) {
    let s: RawSchema;
    try {
      s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RawSchema;
    } catch (err) {
      throw new ConfigError('gateway.ocpp.json_schema_dir', `${f} is not JSON: ${(err as Error).message}`);
    }
    const { $schema: _drop, id, ...rest } = s;
    const $id = s.$id ?? id;
    if (typeof $id !== 'string') throw new ConfigError('gateway.ocpp.json_schema_dir', `${f} has no "id"`);
    schemas.push({ ...rest, $id });
  }
  let validator: RpcValidator;
  try {
    validator = ocppRpc.createValidator('ocpp1.6', schemas) as unknown as RpcValidator;
  } catch (err) {
    throw new ConfigError('gateway.ocpp.json_schema_dir', `invalid schema: ${(err as Error).message}`);
  }
  return new SchemaSet(
    '1.6',
    validator,
    schemas.map((s) => s.$id!),
    (a) => `${idPrefix}${a}Request`,
    (a) => `${idPrefix}${a}Response`,
  );
}

/** Schemas by OCPP version, loaded once per gateway. */
export function loadSchemas(opts: { jsonSchemaDir: string; idPrefix: string }): Record<OcppVersion, MessageSchemas> {
  const dir = opts.jsonSchemaDir.includes('${application_priv}') ? '' : opts.jsonSchemaDir;
  return {
    '1.6': dir ? fromDirectory(dir, opts.idPrefix) : bundled('1.6'),
    '2.0.1': bundled('2.0.1'),
  };
}
