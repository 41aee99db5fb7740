/**
 * What a capsule imports (capsules/README.md): `requestCapability`, `invoke`, `delegate`,
 * `serve(methods)` for providers, and `identity()`. One channel per process, opened on first use.
 */
import type { DecisionRequest } from '@elastos/protocol/ipc/decision';
import { CapsuleError } from './errors.js';
import { Link, type RuntimeCall } from './link.js';
import { type TokenClaims, verifyToken } from './token.js';

/** Who this capsule is and where it may write, from the environment the supervisor gives it. */
export interface Identity {
  name: string;
  /** Its private data dir (`/capsule/data` inside the confinement). */
  dataDir: string;
  /** The runtime's Ed25519 public key (hex), for re-verifying tokens; '' when not given. */
  runtimeKey: string;
}

export function identity(env: NodeJS.ProcessEnv = process.env): Identity {
  return {
    name: env.ELASTOS_CAPSULE ?? '',
    dataDir: env.ELASTOS_DATA_DIR ?? '/capsule/data',
    runtimeKey: env.ELASTOS_RUNTIME_KEY ?? '',
  };
}

let shared: Link | undefined;

/** The capsule's channel; when the runtime closes it, the capsule exits (unless `keepAlive`). */
export function link(): Link {
  if (!shared) {
    shared = new Link();
    shared.onClose(() => process.exit(0));
  }
  return shared;
}

/** What a capsule asks for: the shell's decision request without the ids the runtime adds. */
export type CapabilityRequest = Omit<DecisionRequest, 'requestId' | 'capsule'>;

/** A token the shell granted and the runtime signed; present `token` with each invoke. */
export interface Grant {
  token: string;
  id: string;
  expiry: number;
  maxUses: number;
}

/** Asks the broker (hence the shell) for a capability; E_BROKER_DENIED when refused. */
export async function requestCapability(req: CapabilityRequest): Promise<Grant> {
  return (await link().request('request-capability', { ...req })) as Grant;
}

/** Calls a provider's method on a resource with a token; the broker checks it first. */
export function invoke<T = unknown>(
  provider: string,
  method: string,
  resource: string,
  token: string | Grant,
  args?: unknown,
): Promise<T> {
  const text = typeof token === 'string' ? token : token.token;
  const fields: Record<string, unknown> = { provider, method, resource, token: text };
  if (args !== undefined) fields.args = args;
  return link().request('invoke', fields) as Promise<T>;
}

/** A narrower token for another capsule (token.md §9). */
export async function delegate(
  token: string | Grant,
  to: { holder: string; resource?: string; action?: string; ttlMs?: number; maxUses?: number },
): Promise<Grant> {
  const text = typeof token === 'string' ? token : token.token;
  return (await link().request('delegate', { token: text, ...to })) as Grant;
}

/** One call to a provider, already checked by the broker. */
export interface ProviderRequest {
  /** The capsule that presented the token (the broker knows it from the channel). */
  caller: string;
  method: string;
  /** Canonical resource (normalised by the broker). */
  resource: string;
  args: unknown;
  token: string;
  /** The token's claims when `serve` re-verified it. */
  claims?: TokenClaims;
}

export type Method = (req: ProviderRequest) => unknown;

export interface ServeOptions {
  /** Re-verify each token with the runtime's key (default: when the key is known). */
  verify?: boolean;
}

const BASE_ACTIONS = ['read', 'write', 'list', 'delete', 'net'];
/** The action a method needs (token.md §6 check 7). */
export function actionForMethod(method: string): string {
  return BASE_ACTIONS.includes(method) ? method : `invoke:${method}`;
}

/** Serves a provider's methods; a method throws a CapsuleError to refuse with its code. */
export function serve(methods: Record<string, Method>, options: ServeOptions = {}): void {
  const me = identity();
  const verify = options.verify ?? me.runtimeKey !== '';
  link().onCall(async (call: RuntimeCall) => {
    if (call.op !== 'invoke') throw new CapsuleError('E_USAGE', `a provider answers invoke, not ${call.op}`);
    const req = call as unknown as ProviderRequest;
    const method = Object.hasOwn(methods, req.method) ? methods[req.method] : undefined;
    if (!method) throw new CapsuleError('E_NOT_FOUND', `no method ${String(req.method).slice(0, 64)}`);
    if (verify) {
      req.claims = verifyToken(req.token, me.runtimeKey, {
        holder: req.caller,
        audience: me.name,
        resource: req.resource,
        action: actionForMethod(req.method),
      });
    }
    return method(req);
  });
}

/** The raw call handler (the shell answers `decide`, `requests`, `approve`, `deny`). */
export function serveCalls(handler: (call: RuntimeCall) => unknown): void {
  link().onCall(handler);
}

/** Sends an event to the runtime (the shell's `resolved`). */
export function emit(op: string, fields: Record<string, unknown>): void {
  link().event(op, fields);
}
