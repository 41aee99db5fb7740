/** The runtime's errors are the contract's (runtime/protocol): one table for every room. */
export {
  asElastosError,
  ElastosError,
  ERROR_CODES,
  type ErrorCode,
  hasCode,
  isErrorCode,
} from '@elastos/protocol/errors/index';
