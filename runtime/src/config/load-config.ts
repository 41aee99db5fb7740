import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { ElastosError } from '../errors/index.js';
import { CONFIG_SCHEMA, type ElastosConfig } from './schema.js';

export const PRODUCTION_CONFIG_PATH = '/etc/elastos/config.json';

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true });
const validate = ajv.compile<ElastosConfig>(CONFIG_SCHEMA);

/** Which config file to read: an explicit path, then $ELASTOS_CONFIG, then the production path. */
export function configPath(explicit?: string): string {
  return explicit ?? process.env.ELASTOS_CONFIG ?? PRODUCTION_CONFIG_PATH;
}

/** One line naming the field and the reason, e.g. `tpm.pcr: must be <= 23`. */
function describe(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return `${field ? `${field}.` : ''}${extra}: unknown field`;
  }
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return `${field ? `${field}.` : ''}${missing}: is required`;
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return `${field}: must be one of ${allowed.join(', ')}`;
  }
  return `${field || '(root)'}: ${error.message ?? 'is invalid'}`;
}

/** Validates a parsed config object, fills defaults and resolves relative paths against `baseDir`. */
export function parseConfig(raw: unknown, baseDir: string): ElastosConfig {
  const copy: unknown = structuredClone(raw);
  if (!validate(copy)) {
    const first = validate.errors?.[0];
    throw new ElastosError('E_CONFIG_INVALID', first ? describe(first) : 'invalid config');
  }
  const config = copy as ElastosConfig;
  config.runDir = resolve(baseDir, config.runDir);
  config.stateDir = resolve(baseDir, config.stateDir);
  config.trustDir = resolve(baseDir, config.trustDir);
  const ps = config.tpm.pcrSigning;
  if (ps) config.tpm.pcrSigning = { publicKey: resolve(baseDir, ps.publicKey), policy: resolve(baseDir, ps.policy) };
  if (config.confine.launcher) config.confine.launcher = resolve(baseDir, config.confine.launcher);
  config.confine.instancesDir = resolve(baseDir, config.confine.instancesDir);
  if (config.confine.nodePath) config.confine.nodePath = resolve(baseDir, config.confine.nodePath);
  const u = config.update;
  for (const k of ['systemConf', 'keyring', 'esp', 'cmdline'] as const) u[k] = resolve(baseDir, u[k]);
  u.inboxDir = u.inboxDir ? resolve(baseDir, u.inboxDir) : join(config.stateDir, 'update-inbox');
  if (!isAbsolute(config.admin.socket)) config.admin.socket = resolve(config.runDir, config.admin.socket);
  return config;
}

/** Reads, validates and resolves the config file; refuses a bad one with a single line and a code. */
export function loadConfig(path = configPath()): ElastosConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ElastosError('E_CONFIG_MISSING', `cannot read config ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ElastosError('E_CONFIG_PARSE', `${path}: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(raw, dirname(resolve(path)));
}
