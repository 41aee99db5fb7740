export { ERROR_CODES, type ErrorCode, isErrorCode } from './codes.js';
export { asElastosError, ElastosError, hasCode } from './elastos-error.js';
