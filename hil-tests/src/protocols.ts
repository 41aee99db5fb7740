/**
 * What a suite test may ask a rig for (labgrid's idea: tests speak protocols, backends implement
 * them). A test never names a backend; every backend registers the same interfaces.
 */

/** How a command ended: exit status and output (never throws for a non-zero exit). */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The serial console: everything the box printed since the rig opened. */
export interface ConsoleProtocol {
  /** A position in the console's output, to expect only what comes after it. */
  mark(): number;
  /** Waits (bounded) for a line matching `pattern` after `from`; returns it. */
  expect(pattern: RegExp, timeoutMs: number, from?: number): Promise<string>;
  /** The last `lines` lines (attached to a failure report). */
  tail(lines: number): string;
}

/** A line streamed from a long-running command (e.g. `elastos capsule logs X -f`). */
export interface Follower {
  readonly lines: string[];
  stop(): Promise<void>;
}

/** Commands on the box: `elastos ...` through the restricted admin key, and root for the rig's own acts. */
export interface ShellProtocol {
  /** `elastos ARGS` over SSH with the restricted admin key. */
  elastos(args: string[], timeoutMs?: number): Promise<Run>;
  /** Streams `elastos ARGS` (bounded by stop()). */
  follow(args: string[]): Follower;
  /** A command as root on the box (the lab's maintenance access); E_RIG_PROTOCOL where the rig has none. */
  root(argv: string[], timeoutMs?: number): Promise<Run>;
  /** Makes the runtime (pid `pid` on the box) hang: SIGSTOP as root; QEMU without root freezes the guest (QMP stop). */
  hangRuntime(pid: number): Promise<void>;
  /**
   * Alters the installed code of capsule `name` on the box's disk (as root, or on the disk image
   * with the guest off); the box may be left off. The test then power-cycles it.
   */
  alterCapsule(stateDir: string, name: string): Promise<void>;
  /** Runs `argv` with the restricted admin key as if it were a shell (must be refused). */
  tryRaw(command: string): Promise<Run>;
}

/** The box's power. `cut` is an unclean loss of power; `describeCut` says what it really is. */
export interface PowerProtocol {
  on(): Promise<void>;
  off(): Promise<void>;
  cycle(): Promise<void>;
  cut(): Promise<void>;
  /** True when a cut loses the box's unsynced writes (QEMU, a board); false for a process kill. */
  readonly cutLosesPageCache: boolean;
  readonly describeCut: string;
}

/** The board microcontroller as the rig sees it. */
export interface McuProtocol {
  /** Presses the front button for `ms` (2 s or more is a long press). */
  press(ms: number): Promise<void>;
  /** Holds the watchdog (it does not fire) or releases it. */
  holdWatchdog(hold: boolean): Promise<void>;
  /** The LED state the MCU shows. */
  led(): Promise<string>;
  /** The blink code the LED shows for the request the button answers (0: none). */
  ledCode(): Promise<number>;
  /** Sets the battery-backed RTC. */
  setRtc(unixMs: number): Promise<void>;
  /** How many times the MCU's watchdog has reset the board since the rig opened. */
  watchdogResets(): Promise<number>;
}

/** The TPM where the rig can reach it (swtpm's state for local and QEMU; a board: none). */
export interface TpmProtocol {
  /** Where its state lives (a swtpm state dir), for the report. */
  readonly where: string;
}

export interface Protocols {
  console: ConsoleProtocol;
  shell: ShellProtocol;
  power: PowerProtocol;
  mcu: McuProtocol;
  tpm: TpmProtocol;
}

export type ProtocolName = keyof Protocols;
