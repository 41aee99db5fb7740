/**
 * The tools-backed anchor: AuditAnchor over the stock tpm2-tools commands (tpm2_nvdefine,
 * tpm2_nvextend, tpm2_nvincrement, tpm2_nvread). Each call spawns a tool, so it suits the
 * offline verifier and batched anchoring; the node-tpm2 anchor is the in-process one.
 */
import { spawn } from 'node:child_process';
import { checkTcti } from '@elastos/node-tpm2';
import { ElastosError } from '../errors/index.js';
import { type AnchorIndices, type AnchorState, type AuditAnchor, counterValue } from './anchor.js';

const hex = (n: number) => `0x${n.toString(16)}`;
/** Owner-authorised, no dictionary-attack lockout (a killed client must not lock the TPM out). */
const EXTEND_ATTRS = 'nt=extend|ownerread|ownerwrite|authread|authwrite|no_da';
const COUNTER_ATTRS = 'nt=counter|ownerread|ownerwrite|authread|authwrite|no_da';

export class ToolsAnchor implements AuditAnchor {
  private constructor(
    readonly tcti: string,
    readonly indices: AnchorIndices,
  ) {}

  /** Connects and, unless `define` is false, defines the two indices when missing (counter incremented once so it reads). */
  static async open(tcti: string, indices: AnchorIndices, options: { define?: boolean } = {}): Promise<ToolsAnchor> {
    checkTcti(tcti); // tpm2-tools reads TPM2TOOLS_TCTI: a cmd: TCTI would run a program
    const anchor = new ToolsAnchor(tcti, indices);
    if (options.define === false) return anchor;
    const written = await anchor.written();
    if (written.get(indices.extendIndex) === undefined)
      await anchor.tool('tpm2_nvdefine', [
        '-C',
        'o',
        '-s',
        '32',
        '-g',
        'sha256',
        '-a',
        EXTEND_ATTRS,
        hex(indices.extendIndex),
      ]);
    if (written.get(indices.counterIndex) === undefined)
      await anchor.tool('tpm2_nvdefine', ['-C', 'o', '-s', '8', '-a', COUNTER_ATTRS, hex(indices.counterIndex)]);
    if (written.get(indices.counterIndex) !== true) await anchor.increment();
    return anchor;
  }

  async extend(hash: Uint8Array): Promise<void> {
    await this.tool('tpm2_nvextend', ['-C', 'o', '-i', '-', hex(this.indices.extendIndex)], hash);
  }

  async increment(): Promise<void> {
    await this.tool('tpm2_nvincrement', ['-C', 'o', hex(this.indices.counterIndex)]);
  }

  async read(): Promise<AnchorState> {
    const written = await this.written();
    const { extendIndex, counterIndex } = this.indices;
    if (written.get(extendIndex) === undefined || written.get(counterIndex) !== true)
      throw new ElastosError(
        'E_TPM_COMMAND',
        `the audit anchor indices ${hex(extendIndex)}/${hex(counterIndex)} are not set up`,
      );
    const extend = written.get(extendIndex)
      ? await this.tool('tpm2_nvread', ['-C', 'o', '-s', '32', hex(extendIndex)])
      : new Uint8Array(32);
    const counter = counterValue(await this.tool('tpm2_nvread', ['-C', 'o', '-s', '8', hex(counterIndex)]));
    return { extend, counter };
  }

  /** Defined NV indices and whether each has been written (tpm2_nvreadpublic). */
  private async written(): Promise<Map<number, boolean>> {
    const out = new TextDecoder().decode(await this.tool('tpm2_nvreadpublic', []));
    const found = new Map<number, boolean>();
    for (const block of out.split(/\n(?=0x)/)) {
      const index = /^0x([0-9a-f]+):/i.exec(block.trim());
      if (!index?.[1]) continue;
      found.set(Number.parseInt(index[1], 16), /friendly:[^\n]*\bwritten\b/.test(block));
    }
    return found;
  }

  /** Runs one tool against the TPM; its stdout as bytes. */
  private tool(name: string, args: string[], input?: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const child = spawn(name, ['-T', this.tcti, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.once('error', (cause) =>
        reject(new ElastosError('E_TPM_UNAVAILABLE', `cannot run ${name}: ${cause.message}`, { cause })),
      );
      child.once('close', (code) => {
        if (code === 0) resolve(new Uint8Array(Buffer.concat(out)));
        else reject(toolError(name, err));
      });
      child.stdin.end(input);
    });
  }
}

function toolError(name: string, stderr: string): ElastosError {
  const line = stderr.split('\n').find((l) => l.startsWith('ERROR')) ?? stderr.trim().split('\n')[0] ?? '';
  if (/tcti|connect|No such file/i.test(stderr) && !/Esys_NV/.test(stderr))
    return new ElastosError('E_TPM_UNAVAILABLE', `${name}: ${line}`);
  if (/lockout/i.test(stderr)) return new ElastosError('E_TPM_LOCKOUT', `${name}: ${line}`);
  return new ElastosError('E_TPM_COMMAND', `${name}: ${line}`);
}
