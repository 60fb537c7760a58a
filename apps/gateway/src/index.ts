/** `@junction/gateway`: config loading, adapter registry, logger, CLI and server entry points. */
export { loadConfig, type LoadConfigOptions } from './config/load.js';
export { buildGatewaySchema, DEFAULT_GROUP_DESCRIPTIONS, logSchema, nodeSchema, type BaseGatewayConfig, type GatewayConfig } from './config/schema.js';
export { configDocs, docRows, type DocRow } from './config/docs.js';
export { ENV_PREFIX } from './config/env.js';
export { getAtPath } from './config/path.js';
export { mergeSectionSchemas } from './config/merge.js';
export { AdapterRegistry } from './registry.js';
export { createLogger, LOG_FORMATS, LOG_LEVELS, REDACT_PATHS, type CreateLoggerOptions, type LogFormat, type Logger, type LogLevel } from './logger.js';
export { gatewaySchema, runCli, EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliContext } from './cli.js';
export { gatewaySections } from './sections.js';
export { startGateway, type RunningGateway } from './server.js';
export { defaultConfigPath } from './paths.js';
