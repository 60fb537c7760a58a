/**
 * The adapters the gateway can run, keyed by the config section they read (`listeners.tcp`,
 * `gateway.coap`), and the config sections they share (`mqtt`). The app never names a protocol:
 * adding one is one `register` call.
 */
import type { AdapterDescriptor, AdapterFactory } from '@junction/broker-core';
import type { TSchema } from '@sinclair/typebox';
import { mergeSectionSchemas, sharedSectionSchema } from './config/merge.js';

const SECTION_PATH = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** An adapter type as registered: what its config needs, and how to get its factory. */
export interface AdapterEntry extends AdapterDescriptor {
  /** Its factory; imported on the first call for one registered with `registerLazy`. */
  load(): Promise<AdapterFactory>;
  /** Registered with `registerLazy`: not loaded while its section is an empty map. */
  readonly lazy: boolean;
}

export class AdapterRegistry {
  readonly #factories = new Map<string, AdapterEntry>();
  /** Shared sections: path -> the schemas contributed to it, in order. */
  readonly #shared = new Map<string, TSchema[]>();

  /**
   * Adds a factory. Its `type` is the section its own config lives in and must be unique; the
   * sections it declares in `sections` are shared, and merged with other contributions.
   */
  register(factory: AdapterFactory): this {
    const loaded = Promise.resolve(factory);
    return this.#add({ type: factory.type, configSchema: factory.configSchema, sections: factory.sections, load: () => loaded, lazy: false });
  }

  /**
   * Adds an adapter type whose code is imported by `load` only when the app starts it (its
   * section is configured and not an empty map): its config schema comes without the code.
   */
  registerLazy(descriptor: AdapterDescriptor, load: () => Promise<AdapterFactory>): this {
    let loading: Promise<AdapterFactory> | undefined;
    const once = () =>
      (loading ??= load().then((f) => {
        if (f.type !== descriptor.type || f.configSchema !== descriptor.configSchema) throw new Error(`adapter ${descriptor.type}: the loaded factory does not match its descriptor`);
        return f;
      }));
    return this.#add({ type: descriptor.type, configSchema: descriptor.configSchema, sections: descriptor.sections, load: once, lazy: true });
  }

  #add(factory: AdapterEntry): this {
    checkPath(factory.type, 'adapter type');
    if (this.#factories.has(factory.type)) throw new Error(`adapter type ${JSON.stringify(factory.type)} is already registered`);
    if (this.#shared.has(factory.type)) throw new Error(`adapter type ${JSON.stringify(factory.type)} is already a shared config section`);
    for (const path of Object.keys(factory.sections ?? {})) {
      checkPath(path, `shared section of ${factory.type}`);
      if (this.#factories.has(path) || path === factory.type) throw new Error(`shared section ${JSON.stringify(path)} of ${factory.type} is an adapter's own section`);
    }
    this.#factories.set(factory.type, factory);
    for (const [path, schema] of Object.entries(factory.sections ?? {})) this.#contribute(path, schema);
    return this;
  }

  /**
   * Adds a config section read by the core rather than by one adapter (e.g. the broker's part of
   * `mqtt`); merged with what adapters declare for the same path.
   */
  addSection(path: string, schema: TSchema): this {
    checkPath(path, 'config section');
    if (this.#factories.has(path)) throw new Error(`config section ${JSON.stringify(path)} is an adapter's own section`);
    this.#contribute(path, schema);
    return this;
  }

  get(type: string): AdapterEntry | undefined {
    return this.#factories.get(type);
  }

  /** All adapter types, in registration order. */
  list(): AdapterEntry[] {
    return [...this.#factories.values()];
  }

  /** Section path -> schema, for `buildGatewaySchema`: each factory's own, then the shared ones. */
  schemaSections(): Record<string, TSchema> {
    const sections: Record<string, TSchema> = {};
    for (const f of this.#factories.values()) sections[f.type] = f.configSchema;
    for (const [path, schemas] of this.#shared) {
      const [first, ...rest] = schemas;
      if (first) sections[path] = rest.reduce((acc, s) => mergeSectionSchemas(path, acc, s), sharedSectionSchema(first));
    }
    return sections;
  }

  #contribute(path: string, schema: TSchema): void {
    const schemas = this.#shared.get(path) ?? [];
    if (!schemas.includes(schema)) schemas.push(schema);
    this.#shared.set(path, schemas);
  }
}

function checkPath(path: string, what: string): void {
  if (!SECTION_PATH.test(path)) throw new Error(`${what} ${JSON.stringify(path)} is not a config section path like "gateway.coap"`);
}
