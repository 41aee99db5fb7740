/**
 * The capability token's claims and limits (runtime/spec/token.md §2, §3).
 * A token is data: this file holds its shape and constants, no behaviour.
 */

/** The only format version this runtime accepts (spec §2). */
export const TOKEN_VERSION = 1;
/** Cap on the encoded envelope (spec §3); larger tokens are refused before any decoding. */
export const MAX_TOKEN_BYTES = 2048;
/** Domain separation of the signed message (spec §4): the runtime key also signs checkpoints. */
export const SIGNING_CONTEXT = 'elastos/token/v1\n';

/** The base actions; `invoke:<method>` names a provider method (spec §2). */
export const BASE_ACTIONS = ['read', 'write', 'list', 'delete', 'net'] as const;
export const INVOKE_PREFIX = 'invoke:';

/** The claims of one token, as signed. Times are milliseconds since the Unix epoch (UTC). */
export interface TokenClaims {
  version: number;
  /** 32 lowercase hex characters (16 random bytes). */
  id: string;
  /** `keyId` of the runtime key that signed it. */
  issuer: string;
  /** Capsule id of the only capsule that may present it. */
  holder: string;
  /** Capsule id of the provider it may be presented to. */
  audience: string;
  /**
   * The holder's identity when the token was signed: `<publisher keyId>:<install id>` (spec §2.1).
   * A capsule removed and installed again (by anyone) is a new identity and holds nothing.
   */
  holderIdentity?: string;
  /** The audience's identity, the same way. */
  audienceIdentity?: string;
  /** Normalised resource URI or prefix scope (ends with `/`). */
  resource: string;
  action: string;
  notBefore: number;
  expiry: number;
  /** Most uses over the token's life; 0 means unlimited. */
  maxUses: number;
  epoch: number;
  /** Id of the token it was delegated from. */
  parent?: string;
  /** Opaque text caveats for the provider; `audit: detail` asks the broker to log arguments. */
  caveats?: Record<string, string>;
}

/** A decoded, structurally valid token with the exact bytes it arrived as. */
export interface SignedToken {
  claims: TokenClaims;
  /** Deterministic CBOR of the claims (what the signature covers, after the context). */
  payload: Uint8Array;
  signature: Uint8Array;
  /** base64url of the envelope: the form capsules carry. */
  encoded: string;
}

/** What the broker knows about one request, from the channel it came on (never from the message). */
export interface RequestContext {
  holder: string;
  audience: string;
  resource: string;
  action: string;
}

/** True for `read`..`net` and `invoke:<method>` with a sane method name. */
export function isAction(value: string): boolean {
  if ((BASE_ACTIONS as readonly string[]).includes(value)) return true;
  return value.startsWith(INVOKE_PREFIX) && METHOD_RE.test(value.slice(INVOKE_PREFIX.length));
}

/** The action a provider method needs: a base action by its name, else `invoke:<method>`. */
export function actionForMethod(method: string): string {
  return (BASE_ACTIONS as readonly string[]).includes(method) ? method : `${INVOKE_PREFIX}${method}`;
}

export const METHOD_RE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,63}$/;
/** Capsule ids: names or content hashes, printable and short (spec §2). */
export const CAPSULE_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9._:-]{0,127}$/;
export const TOKEN_ID_RE = /^[0-9a-f]{32}$/;
/** A capsule's identity (spec §2.1): its publisher's key id and its install id. */
export const IDENTITY_RE = /^[0-9a-f]{16}:[0-9a-f]{32}$/;
