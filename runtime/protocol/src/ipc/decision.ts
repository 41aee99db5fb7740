/**
 * The shell's decision protocol (runtime/spec/ipc.md §6): what the runtime asks the shell
 * capsule to decide. The answer is a `Decision` (messages.ts).
 */

/**
 * What the shell is asked to decide: a capsule's request (the SDK's `CapabilityRequest`, the
 * shell's `DecisionRequest` are this type) with the identity of the channel it came on.
 */
export interface DecisionRequest {
  requestId: string;
  /** The requesting capsule, from its IPC channel (never from the message). */
  capsule: string;
  /** The provider capsule, e.g. `storage`. */
  audience: string;
  /** `storage://photos/vacation.jpg`, or a prefix scope ending in `/`; canonical (token.md §5) once the shell sees it. */
  resource: string;
  /** `read`, `write`, `list`, `delete`, `net` or `invoke:<method>`. */
  action: string;
  ttlMs?: number;
  maxUses?: number;
  /** Shown to whoever decides (the shell, the admin). */
  reason?: string;
}

/** One ask the shell holds for a person to answer (its `requests` answer; `elastos requests`). */
export interface PendingAsk {
  ticket: string;
  request: DecisionRequest;
  /** ISO time it was queued. */
  since: string;
  /** Why the shell asks (the rule's note or the decider's reason), then the capsule's own reason if it gave one. */
  reason: string;
}
