/** The runtime's config file (`/etc/elastos/config.json` on the box). Relative paths resolve against the file's folder. */
export interface ElastosConfig {
  /** `production` fails closed on every missing layer; `dev` may degrade with a loud warning and an audit entry. */
  profile: 'production' | 'dev';
  /** Sockets and pid file: `/run/elastos` on the box. */
  runDir: string;
  /** Store, installed capsules, capsule data: `/var/lib/elastos` on the box. */
  stateDir: string;
  /** Publisher keys trusted to sign capsules (the trust store); measured at boot. `/etc/elastos/trust` on the box. */
  trustDir: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  tpm: {
    /** Passed through to tpm2-tss: `device:/dev/tpmrm0`, `swtpm:path=S`, `swtpm:host=127.0.0.1,port=N`. */
    tcti: string;
    /** The PCR the runtime measures itself, its config and trust store into (runtime/spec/boot.md). */
    pcr: number;
    /** Dev only: run without a TPM (loud warning, audited). */
    insecureNoTpm: boolean;
    /**
     * The vendor-signed PCR policy (runtime/spec/boot.md §4.1): when set, the runtime key is sealed
     * to whatever this key signs (TPM2_PolicyAuthorize) and unsealed with the release's signed policy.
     * Unset: the key is sealed to `pcr` alone (the PCR 23 fallback).
     */
    pcrSigning?: {
      /** PEM of the vendor's RSA-2048 PCR-signing public key (the image: /usr/lib/elastos/pcr-signing.pem). */
      publicKey: string;
      /** The release's signed policy file (the image: /run/elastos-boot/pcr-policy.json, the booted slot's, copied from the ESP at boot). */
      policy: string;
    };
  };
  admin: {
    /** Unix socket of the admin CLI; relative paths resolve under runDir. */
    socket: string;
    /** Members of this group (and root) may administer the box. */
    group: string;
  };
  audit: {
    /** Sign a checkpoint after this many entries. */
    checkpointEntries: number;
    /** ...or after this many milliseconds, whichever comes first. */
    checkpointMs: number;
    /**
     * Least time between two NV anchorings of the checkpoints (runtime/spec/audit.md §7.2): the
     * TPM's NV write budget. 0 anchors every checkpoint (tests only: it wears a real TPM out).
     */
    anchorMs: number;
    /** TPM NV extend index the checkpoints are anchored in (runtime/spec/audit.md §7). */
    nvExtendIndex: number;
    /** TPM NV monotonic counter incremented once per checkpoint. */
    nvCounterIndex: number;
  };
  /** Capability tokens (runtime/spec/token.md). */
  tokens: {
    /** The longest lifetime the runtime signs, whatever the shell grants. */
    maxTtlMs: number;
    /** How long tokens of a retired runtime key stay valid. */
    keyGraceMs: number;
    /** Tolerance on not-before and expiry (0: the broker shares the issuer's clock). */
    clockSkewMs: number;
    /** Verified tokens kept in the verdict cache. */
    cacheEntries: number;
    /** TPM NV counter index holding the epoch's floor (token.md §8.1). */
    nvEpochIndex: number;
  };
  /** A/B updates through RAUC (runtime/spec/update.md); commands answer E_UPDATE_UNAVAILABLE without `systemConf`. */
  update: {
    /** RAUC's system config (compatible, slots); its absence means this system has no slots. */
    systemConf: string;
    /** The vendor's update certificate(s) a bundle must verify against. */
    keyring: string;
    /** The ESP holding one UKI per slot in EFI/Linux/ (image-build/README.md). */
    esp: string;
    /** The rauc program (RAUC's D-Bus service does the install). */
    rauc: string;
    /** The kernel command line naming the booted slot (`rauc.slot=`). */
    cmdline: string;
    /** Where an admin drops a bundle for `update install` (group-writable); '' = stateDir/update-inbox. */
    inboxDir: string;
    /** TPM NV counters of the version floor (floor = floor counter − base counter, §4). */
    nvFloorIndex: number;
    nvBaseIndex: number;
  };
  /** The broker and its IPC channels (runtime/spec/ipc.md). */
  broker: {
    /** Capsule id of the shell, the policy capsule that decides capability requests. */
    shell: string;
    maxFrameBytes: number;
    /** Per capsule: sustained requests per second, burst above it, requests in flight. */
    ratePerSec: number;
    burst: number;
    maxInFlight: number;
    /** Floods or garbage within one second that stop the capsule. */
    maxStrikes: number;
    invokeTimeoutMs: number;
    decideTimeoutMs: number;
    /** How long an "ask" waits for the admin (or the button). */
    askTimeoutMs: number;
  };
  health: {
    /** How often the runtime samples temperature, load, memory and disks for `elastos health`. */
    intervalMs: number;
  };
  serial: {
    /** The MCU's serial device, or empty for none (then firmware-bridge is not loaded). */
    path: string;
    baudRate: number;
    /** Hardware watchdog timeout armed on the MCU; kicked every quarter of it while healthy; 0 = never arm, else 1000-600000. */
    watchdogMs: number;
    /** The system clock is trusted only when this file exists (systemd-timesyncd's); '' = trust it past the build floor. */
    clockSyncMarker: string;
    /** Default window in which a long press approves a pending request. */
    presenceWindowMs: number;
  };
  /** Capsule confinement (runtime/launcher/README.md). */
  confine: {
    /** The launcher binary; empty: the one built in the runtime package (launcher/build/elastos-launch). */
    launcher: string;
    /** The Node binary capsules run on; empty: the runtime's own. */
    nodePath: string;
    /** Capsule cgroups live under `<runtime's cgroup>/<cgroupParent>/<capsule>`: one parent per runtime instance. */
    cgroupParent: string;
    /**
     * Capsule uids (one per capsule, gid = uid) come from [uidBase, uidBase + uidCount): one range per
     * runtime instance, outside /etc/subuid and /etc/subgid. The default sits above Debian's useradd
     * blocks (100000-600165535) and systemd-nspawn's (524288-1879048191).
     */
    uidBase: number;
    uidCount: number;
    /** Host-wide directory where each running instance claims its cgroup parent and uid range. */
    instancesDir: string;
    /** SIGTERM, then SIGKILL after this long. */
    stopGraceMs: number;
    /** Size of each capsule's private /tmp (charged to its memory limit). */
    tmpBytes: number;
    /**
     * Default disk quota: the size of a capsule's own data volume when its manifest names none
     * (limits.diskMiB); 0: no volume, its data dir shares the store's filesystem.
     */
    diskBytes: number;
    restart: {
      initialDelayMs: number;
      maxDelayMs: number;
      /** More crashes than this within crashWindowMs stop the capsule (E_CAPSULE_CRASHLOOP). */
      crashLimit: number;
      crashWindowMs: number;
    };
  };
}

/** JSON Schema of the config; ajv fills the defaults. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['profile', 'runDir', 'stateDir'],
  properties: {
    profile: { type: 'string', enum: ['production', 'dev'] },
    runDir: { type: 'string', minLength: 1 },
    stateDir: { type: 'string', minLength: 1 },
    trustDir: { type: 'string', minLength: 1, default: 'trust' },
    logLevel: {
      type: 'string',
      enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'],
      default: 'info',
    },
    tpm: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        tcti: { type: 'string', minLength: 1, pattern: '^(device|swtpm|mssim|tabrmd):', default: 'device:/dev/tpmrm0' },
        pcr: { type: 'integer', minimum: 0, maximum: 23, default: 23 },
        insecureNoTpm: { type: 'boolean', default: false },
        pcrSigning: {
          type: 'object',
          additionalProperties: false,
          required: ['publicKey', 'policy'],
          properties: {
            publicKey: { type: 'string', minLength: 1 },
            policy: { type: 'string', minLength: 1 },
          },
        },
      },
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        socket: { type: 'string', minLength: 1, default: 'admin.sock' },
        group: { type: 'string', minLength: 1, default: 'elastos-admin' },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        checkpointEntries: { type: 'integer', minimum: 1, default: 10000 },
        checkpointMs: { type: 'integer', minimum: 10, maximum: 60000, default: 1000 },
        // One NV write per anchor index an hour: ~91,000 in ten years (runtime/spec/audit.md §7.2).
        anchorMs: { type: 'integer', minimum: 0, maximum: 86_400_000, default: 3_600_000 },
        // Owner-range NV indices (TCG handle registry: 0x01000000-0x013FFFFF): 0x01000a01, 0x01000a02.
        nvExtendIndex: { type: 'integer', minimum: 0x01000000, maximum: 0x013fffff, default: 0x01000a01 },
        nvCounterIndex: { type: 'integer', minimum: 0x01000000, maximum: 0x013fffff, default: 0x01000a02 },
      },
    },
    tokens: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        maxTtlMs: { type: 'integer', minimum: 1000, default: 2592000000 },
        keyGraceMs: { type: 'integer', minimum: 0, default: 86400000 },
        clockSkewMs: { type: 'integer', minimum: 0, maximum: 60000, default: 0 },
        cacheEntries: { type: 'integer', minimum: 1, default: 10000 },
        nvEpochIndex: { type: 'integer', minimum: 0x01000000, maximum: 0x013fffff, default: 0x01000a10 },
      },
    },
    update: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        systemConf: { type: 'string', minLength: 1, default: '/etc/rauc/system.conf' },
        keyring: { type: 'string', minLength: 1, default: '/etc/rauc/keyring.pem' },
        esp: { type: 'string', minLength: 1, default: '/boot/firmware' },
        rauc: { type: 'string', minLength: 1, default: 'rauc' },
        cmdline: { type: 'string', minLength: 1, default: '/proc/cmdline' },
        inboxDir: { type: 'string', default: '' },
        nvFloorIndex: { type: 'integer', minimum: 0x01000000, maximum: 0x013fffff, default: 0x01000a20 },
        nvBaseIndex: { type: 'integer', minimum: 0x01000000, maximum: 0x013fffff, default: 0x01000a21 },
      },
    },
    broker: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        shell: { type: 'string', minLength: 1, default: 'shell' },
        maxFrameBytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 65536 },
        ratePerSec: { type: 'integer', minimum: 1, default: 10000 },
        burst: { type: 'integer', minimum: 1, default: 500 },
        maxInFlight: { type: 'integer', minimum: 1, default: 256 },
        maxStrikes: { type: 'integer', minimum: 1, default: 20 },
        invokeTimeoutMs: { type: 'integer', minimum: 1, default: 30000 },
        decideTimeoutMs: { type: 'integer', minimum: 1, default: 10000 },
        askTimeoutMs: { type: 'integer', minimum: 1, default: 300000 },
      },
    },
    health: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        intervalMs: { type: 'integer', minimum: 500, maximum: 3600000, default: 5000 },
      },
    },
    serial: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        path: { type: 'string', default: '' },
        baudRate: { type: 'integer', minimum: 1200, default: 115200 },
        watchdogMs: { type: 'integer', anyOf: [{ const: 0 }, { minimum: 1000, maximum: 600000 }], default: 10000 },
        clockSyncMarker: { type: 'string', default: '/run/systemd/timesync/synchronized' },
        presenceWindowMs: { type: 'integer', minimum: 1000, maximum: 600000, default: 30000 },
      },
    },
    confine: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        launcher: { type: 'string', default: '' },
        nodePath: { type: 'string', default: '' },
        cgroupParent: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', default: 'elastos' },
        uidBase: { type: 'integer', minimum: 1000, maximum: 4_000_000_000, default: 1_900_000_000 },
        uidCount: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000 },
        instancesDir: { type: 'string', minLength: 1, default: '/run/elastos-instances' },
        stopGraceMs: { type: 'integer', minimum: 0, maximum: 60_000, default: 2000 },
        tmpBytes: { type: 'integer', minimum: 65_536, default: 16_777_216 },
        diskBytes: { type: 'integer', minimum: 0, default: 67_108_864 },
        restart: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: [],
          properties: {
            initialDelayMs: { type: 'integer', minimum: 0, default: 200 },
            maxDelayMs: { type: 'integer', minimum: 0, default: 30_000 },
            crashLimit: { type: 'integer', minimum: 0, default: 5 },
            crashWindowMs: { type: 'integer', minimum: 1, default: 60_000 },
          },
        },
      },
    },
  },
} as const;
