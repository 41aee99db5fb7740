import { fromNative, TpmError } from './errors.js';
import { loadAddon, type NativeContext } from './native.js';
import { TpmOps } from './ops.js';

type OpsMethod = {
  [K in keyof TpmOps]: TpmOps[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : never;
};

/**
 * One TPM connection. Calls are served strictly in the order they were issued (one queue),
 * because ESYS is not reentrant, its lock is not FIFO, and the event log's order must equal
 * the PCR extend order. Each call runs off the event loop.
 */
/**
 * The TCTIs that reach a TPM: a device, swtpm, the simulator's socket, the resource manager daemon.
 * tpm2-tss also loads `cmd:` (runs a program and talks to it over its stdio) and any
 * libtss2-tcti-NAME.so on the library path: both would run code chosen by whoever names the TCTI.
 */
const TCTI_KINDS = ['device', 'swtpm', 'mssim', 'tabrmd'];

export function checkTcti(tcti: string): void {
  const kind = tcti.split(':')[0] ?? '';
  if (!TCTI_KINDS.includes(kind))
    throw new TpmError('E_TPM_TCTI', `TCTI ${JSON.stringify(kind)} is not allowed (${TCTI_KINDS.join(', ')})`);
}

export class Tpm {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly ops: TpmOps;

  private constructor(
    private readonly ctx: NativeContext,
    readonly tcti: string,
  ) {
    this.ops = new TpmOps(ctx);
  }

  /** Connects through the TCTI string (checkTcti: a TPM transport, never `cmd:`) as tpm2-tss reads it (`device:/dev/tpmrm0`, `swtpm:path=S`). */
  static async open(tcti: string): Promise<Tpm> {
    if (typeof tcti !== 'string' || tcti.length === 0) throw new TypeError('tcti must be a non-empty string');
    checkTcti(tcti);
    const ctx = new (loadAddon().Context)();
    try {
      await ctx.open(tcti);
    } catch (err) {
      const e = fromNative(err);
      throw new TpmError('E_TPM_UNAVAILABLE', `no TPM at ${tcti}: ${e.message}`, {
        cause: e,
        rc: e.rc,
        decoded: e.decoded,
      });
    }
    const tpm = new Tpm(ctx, tcti);
    // A TCTI that loads but has nobody behind it fails here, at the first command.
    await tpm.getRandom(1).catch(async (err: TpmError) => {
      await ctx.close();
      throw new TpmError('E_TPM_UNAVAILABLE', `no TPM at ${tcti}: ${err.message}`, { cause: err, rc: err.rc });
    });
    return tpm;
  }

  /** Runs `fn` with exclusive use of the TPM: no other call runs between its steps. */
  exclusive<T>(fn: (ops: TpmOps) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TpmError('E_TPM_UNAVAILABLE', 'the TPM connection is closed'));
    const run = this.tail.then(() => fn(this.ops));
    this.tail = run.catch(() => {});
    return run;
  }

  /** Waits for queued calls, then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    const last = this.tail;
    this.closed = true;
    await last;
    await this.ctx.close();
  }

  private q<K extends keyof OpsMethod>(name: K): OpsMethod[K] {
    return ((...args: unknown[]) =>
      this.exclusive((ops) => (ops[name] as (...a: unknown[]) => Promise<unknown>).apply(ops, args))) as OpsMethod[K];
  }

  readonly getRandom = this.q('getRandom');
  readonly pcrRead = this.q('pcrRead');
  readonly pcrExtend = this.q('pcrExtend');
  readonly pcrReset = this.q('pcrReset');
  readonly createPrimary = this.q('createPrimary');
  readonly flush = this.q('flush');
  readonly seal = this.q('seal');
  readonly unseal = this.q('unseal');
  readonly quote = this.q('quote');
  readonly properties = this.q('properties');
  readonly nvDefine = this.q('nvDefine');
  readonly nvUndefine = this.q('nvUndefine');
  readonly nvIncrement = this.q('nvIncrement');
  readonly nvExtend = this.q('nvExtend');
  readonly nvRead = this.q('nvRead');
  readonly nvReadCounter = this.q('nvReadCounter');
}
