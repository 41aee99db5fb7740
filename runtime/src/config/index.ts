export { configPath, loadConfig, PRODUCTION_CONFIG_PATH, parseConfig } from './load-config.js';
export { CONFIG_SCHEMA, type ElastosConfig } from './schema.js';
