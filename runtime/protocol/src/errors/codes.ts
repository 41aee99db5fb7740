/**
 * The one table of error codes. Codes are the API: messages may change, codes do not.
 * The CLI prints `error CODE: message`, the audit trail records the code, tests assert it.
 * `exit` is the CLI's exit status for the code (documented in scripts/README.md).
 *
 * Add a code here, never inline; keep areas together.
 */
export const ERROR_CODES = {
  // general
  E_INTERNAL: { exit: 70, summary: 'unexpected internal failure (a bug): see the log' },
  E_USAGE: { exit: 64, summary: 'bad command-line usage' },
  E_NOT_FOUND: { exit: 66, summary: 'the named thing does not exist' },
  E_TIMEOUT: { exit: 75, summary: 'an operation did not finish in time' },
  E_SETUP_REQUIRED: { exit: 69, summary: 'a prerequisite is not installed or not built' },

  // config
  E_CONFIG_MISSING: { exit: 78, summary: 'the config file does not exist' },
  E_CONFIG_PARSE: { exit: 78, summary: 'the config file is not valid JSON' },
  E_CONFIG_INVALID: { exit: 78, summary: 'a config field is missing or has a bad value' },

  // store
  E_STORE_OPEN: { exit: 74, summary: 'the store could not be opened (locked by another process?)' },
  E_STORE_CLOSED: { exit: 74, summary: 'the store is not open' },
  E_STORE_WRITE: { exit: 74, summary: 'a store write failed (disk full, I/O error): the action is refused' },
  E_STORE_CORRUPT: { exit: 74, summary: 'a stored record does not decode' },

  // daemon and admin socket
  E_DAEMON_RUNNING: { exit: 75, summary: 'another runtime already holds this run directory' },
  E_DAEMON_UNREACHABLE: { exit: 69, summary: 'the runtime is not running or its admin socket is unreachable' },
  E_ADMIN_DENIED: { exit: 77, summary: 'the caller is not in the admin group' },
  E_ADMIN_PROTOCOL: { exit: 76, summary: 'a malformed admin request or reply' },

  // TPM
  E_TPM_UNAVAILABLE: { exit: 69, summary: 'no TPM answers at the configured TCTI' },
  E_TPM_TCTI: {
    exit: 64,
    summary: 'not a TCTI the runtime uses (device:, swtpm:, mssim:, tabrmd:): cmd: runs a program',
  },
  E_TPM_COMMAND: { exit: 70, summary: 'the TPM returned an error code' },
  E_TPM_LOCKOUT: { exit: 75, summary: 'the TPM is in dictionary-attack lockout' },
  E_BOOT_MEASURE: { exit: 66, summary: 'a file the runtime loads cannot be read to measure it: refusing to start' },
  E_TPM_PCR_MISMATCH: { exit: 77, summary: 'the measured state differs from the sealed policy: refusing to start' },
  E_TPM_SEALED_CORRUPT: { exit: 74, summary: 'the sealed key blob does not load' },
  E_TPM_NOT_PROVISIONED: { exit: 78, summary: 'no sealed runtime key: run `elastos provision`' },
  E_TPM_PROVISIONED: {
    exit: 73,
    summary: 'a runtime key is already sealed: use `elastos provision --reseal` after an authorised update',
  },
  E_TPM_INSECURE: { exit: 78, summary: 'running without a TPM needs --insecure-no-tpm in the dev profile' },
  E_ATTEST_NONCE: { exit: 65, summary: 'the quote does not carry the expected nonce' },
  E_ATTEST_INVALID: { exit: 65, summary: 'the attestation does not verify' },
  E_EVENTLOG_MISMATCH: { exit: 65, summary: 'the event log does not replay to the quoted PCR values' },
  E_ATTEST_RELEASE: { exit: 65, summary: 'the attested measurements are not those of the expected release' },

  // the appliance image (image-build/README.md)
  E_IMAGE_PREREQ: { exit: 69, summary: 'the image build needs root on Debian with its packages and binfmt_misc' },
  E_IMAGE_ADMIN_KEY: { exit: 65, summary: 'the admin key file is not one SSH public key' },
  E_IMAGE_BUILD: { exit: 70, summary: 'a stage of the image build failed' },
  E_IMAGE_BOOT: { exit: 70, summary: 'the image did not boot or answer in time' },

  // tokens (runtime/spec/token.md)
  E_TOKEN_MALFORMED: { exit: 65, summary: 'the token does not decode or has a bad structure' },
  E_TOKEN_VERSION: { exit: 65, summary: 'unknown token format version' },
  E_TOKEN_TOO_LARGE: { exit: 65, summary: 'the token exceeds the size cap' },
  E_TOKEN_SIGNATURE: { exit: 77, summary: 'the token signature does not verify' },
  E_TOKEN_ISSUER: { exit: 77, summary: 'the token was not issued by a current runtime key' },
  E_TOKEN_HOLDER: { exit: 77, summary: 'the token belongs to another capsule' },
  E_TOKEN_AUDIENCE: { exit: 77, summary: 'the token is for another provider' },
  E_TOKEN_SCOPE: { exit: 77, summary: 'the resource is outside the token scope' },
  E_TOKEN_ACTION: { exit: 77, summary: 'the action is not allowed by the token' },
  E_TOKEN_NOT_YET_VALID: { exit: 77, summary: 'the token is not valid yet' },
  E_TOKEN_EXPIRED: { exit: 77, summary: 'the token has expired' },
  E_TOKEN_EXHAUSTED: { exit: 77, summary: 'the token has no uses left' },
  E_TOKEN_EPOCH: { exit: 77, summary: 'the token is from an old epoch' },
  E_TOKEN_REVOKED: { exit: 77, summary: 'the token was revoked' },
  E_TOKEN_DELEGATION: { exit: 77, summary: 'a delegated token widens its parent' },
  E_TOKEN_UNKNOWN: { exit: 77, summary: 'the token id was never issued by this runtime' },
  E_RESOURCE_INVALID: { exit: 65, summary: 'the resource URI is malformed or escapes its scope' },

  // broker and IPC (runtime/spec/ipc.md)
  E_IPC_FRAME: { exit: 65, summary: 'a malformed or oversized IPC frame' },
  E_IPC_SCHEMA: { exit: 65, summary: 'an IPC message does not match its schema' },
  E_IPC_THROTTLED: { exit: 75, summary: 'the capsule sends too fast and is throttled' },
  E_IPC_STALLED: { exit: 75, summary: 'the capsule does not read its channel (output over its quota): stopped' },
  E_BROKER_DENIED: { exit: 77, summary: 'the shell denied the request' },
  E_BROKER_NO_PROVIDER: { exit: 69, summary: 'no running provider of that name' },
  E_BROKER_PENDING: { exit: 75, summary: 'the request waits for an approval' },
  E_REQUEST_NOT_FOUND: { exit: 66, summary: 'no pending request with that id' },
  E_REQUEST_EXPIRED: { exit: 75, summary: 'the request expired: its requester went away before an answer' },
  E_PRESENCE_UNBOUND: {
    exit: 77,
    summary: 'a button press answered no request: none was shown, it began before, or came after its window',
  },

  // audit (runtime/spec/audit.md)
  E_AUDIT_WRITE: { exit: 74, summary: 'the audit record could not be made durable: the action is refused' },
  E_AUDIT_CHAIN: { exit: 65, summary: 'the audit hash chain is broken' },
  E_AUDIT_TRUNCATED: { exit: 65, summary: 'audit entries are missing at or before the last anchor' },
  E_AUDIT_ROLLBACK: { exit: 65, summary: 'the audit store is older than the TPM anchor' },
  E_AUDIT_CHECKPOINT: { exit: 65, summary: 'a checkpoint signature or root does not verify' },
  E_AUDIT_PRUNE: { exit: 65, summary: 'pruning is only allowed below a checkpoint' },

  // capsules and packages
  E_CAPSULE_INVALID: { exit: 65, summary: 'the capsule package or manifest is invalid' },
  E_CAPSULE_SIGNATURE: { exit: 77, summary: 'the capsule signature does not verify' },
  E_CAPSULE_UNTRUSTED: { exit: 77, summary: 'the capsule publisher is not in the trust store' },
  E_CAPSULE_HASH: { exit: 77, summary: 'the capsule content does not match its id' },
  E_CAPSULE_EXISTS: { exit: 73, summary: 'a capsule of that name is already installed' },
  E_CAPSULE_CRASHLOOP: { exit: 70, summary: 'the capsule crashed too often and is stopped' },
  E_CAPSULE_NO_PREVIOUS: { exit: 66, summary: 'the capsule has no previous version to roll back to' },
  E_TRUST_KEY_INVALID: { exit: 65, summary: 'a publisher key file is malformed' },
  E_CAPSULE_QUOTA: { exit: 74, summary: "the capsule's storage quota is used up: the write is refused" },
  E_CAPSULE_NOT_RUNNING: { exit: 69, summary: 'the capsule is installed but not running' },
  E_STORAGE_LINK: { exit: 65, summary: 'a path in storage is a symbolic link: storage never follows links' },
  E_STORAGE_XDEV: { exit: 74, summary: 'a file would move across filesystems inside storage' },

  // confinement
  E_CONFINE_UNAVAILABLE: { exit: 69, summary: 'a required confinement layer is missing on this kernel' },
  E_CONFINE_LAUNCH: { exit: 70, summary: 'the launcher could not set up the capsule' },
  E_CONFINE_OOM: { exit: 70, summary: 'the capsule was killed by its memory limit' },
  E_CONFINE_PIDS: { exit: 70, summary: 'the capsule hit its process limit' },
  E_CONFINE_INSTANCE: {
    exit: 75,
    summary: 'another runtime instance on this host uses this cgroup parent or capsule uid range',
  },
  E_CONFINE_DISK: {
    exit: 73,
    summary: "the capsule's data volume (its disk quota) cannot be made: the store's filesystem keeps its reserve",
  },
  E_CONFINE_UID_RANGE: { exit: 78, summary: 'the capsule uid range overlaps a range in /etc/subuid or /etc/subgid' },

  // firmware bridge (firmware-bridge/spec)
  E_SERIAL_OPEN: { exit: 69, summary: 'the serial port could not be opened' },
  E_SERIAL_FRAME: { exit: 65, summary: 'a bad serial frame (CRC, COBS, length)' },
  E_SERIAL_TIMEOUT: { exit: 75, summary: 'the MCU did not acknowledge in time' },
  E_SERIAL_VERSION: { exit: 65, summary: 'the MCU speaks another protocol version' },
  E_SERIAL_MESSAGE: { exit: 65, summary: 'a well-framed serial message of unknown type or with a bad payload' },
  E_SERIAL_REJECTED: { exit: 65, summary: 'the MCU refused the command (unknown, bad payload or wrong state)' },
  E_SERIAL_BUSY: { exit: 75, summary: 'the serial send queue is full: retry later' },
  E_SERIAL_CLOSED: { exit: 69, summary: 'the serial link is down or the bridge is stopped' },

  // hardware-in-the-loop rigs (hil-tests/)
  E_RIG_FILE: { exit: 78, summary: 'a rig file is missing a field or has a bad value' },
  E_RIG_PROTOCOL: { exit: 69, summary: 'the rig has no backend for a protocol the test needs' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
