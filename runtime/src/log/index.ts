export { createLogger, type LogFormat, type Logger, logFormat } from './logger.js';
