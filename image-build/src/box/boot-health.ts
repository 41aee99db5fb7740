/**
 * Runs ON THE BOX (elastos-boot-health.service, ordered before boot-complete.target): the boot
 * assessment of image-build/README.md, "Boot chain". The boot is good when the runtime answers
 * (the production runtime does only once it unsealed its key) with its key provisioned, the
 * demo service has finished and every installed capsule runs, and the runtime serves its health
 * reading. Then it exits 0 and systemd-bless-boot marks the boot loader entry good. It fails
 * when the runtime has been restarted twice (it refused to start: a tampered or broken slot), the
 * demo service failed, or nothing was good within the time limit; on a boot that systemd-boot is
 * counting it then reboots, so the slot uses up its tries and systemd-boot falls back by itself.
 *   node boot-health.js [--timeout-s N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { AdminClient, loadConfig } from '@elastos/runtime';

const say = (line: string) => process.stdout.write(`elastos-boot-health: ${line}\n`);
const EFI_VARS = '/sys/firmware/efi/efivars';
/**
 * The exit status of a BAD verdict (already rebooting a counted boot). Any other failure (this
 * script not loading at all, e.g. its code on a root block that fails dm-verity) is caught by the
 * unit's ExecStopPost, which then reboots a counted boot itself.
 */
const EXIT_BAD = 2;
const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';

/** A systemd-boot EFI variable (UTF-16LE after 4 attribute bytes), or undefined. */
export function loaderVar(name: string, dir = EFI_VARS): string | undefined {
  const f = `${dir}/${name}-${LOADER_GUID}`;
  if (!existsSync(f)) return undefined;
  return readFileSync(f).subarray(4).toString('utf16le').replace(/\0+$/, '');
}

async function call(cmd: string): Promise<unknown> {
  const client = await AdminClient.connect(loadConfig().admin.socket);
  try {
    return await client.call(cmd, {});
  } finally {
    client.close();
  }
}

const unitProp = (unit: string, prop: string) =>
  spawnSync('systemctl', ['show', unit, `--property=${prop}`, '--value'], { encoding: 'utf8' }).stdout.trim();

interface Verdict {
  good: boolean;
  why: string;
}

/** One look at the box; `good: false` with a reason that is final when `why` starts with "failed". */
async function assess(): Promise<Verdict> {
  if (unitProp('elastos-demo.service', 'ActiveState') === 'failed')
    return { good: false, why: 'failed: elastos-demo.service failed' };
  const tpm = (await call('tpm.status').catch(() => undefined)) as
    | { reachable: boolean; provisioned: boolean; keyId?: string }
    | undefined;
  if (!tpm) {
    // A runtime that refuses to start (e.g. E_TPM_PCR_MISMATCH) is restarted by systemd, in vain.
    const restarts = Number(unitProp('elastosd.service', 'NRestarts'));
    if (restarts >= 2) return { good: false, why: `failed: elastosd restarted ${restarts} times and does not answer` };
    return { good: false, why: 'the runtime does not answer yet' };
  }
  // The production runtime answers only after it unsealed its key (it refuses to start
  // otherwise); its PCR has moved on since (capsules are measured into it after the unseal).
  if (!tpm.reachable || !tpm.provisioned || !tpm.keyId)
    return { good: false, why: `no unsealed key (tpm reachable ${tpm.reachable}, provisioned ${tpm.provisioned})` };
  if (unitProp('elastos-demo.service', 'ActiveState') !== 'active')
    return { good: false, why: 'the demo capsules are not started yet' };
  const { capsules } = (await call('status')) as { capsules: Array<{ name: string; state: string }> };
  const idle = capsules.filter((c) => c.state !== 'running').map((c) => `${c.name}:${c.state}`);
  if (capsules.length === 0 || idle.length > 0) return { good: false, why: `capsules not running: ${idle.join(' ')}` };
  await call('health');
  return { good: true, why: `key ${tpm.keyId} unsealed, ${capsules.length} capsules running, health answered` };
}

/** PCR 11 as the stub left it (the UKI's measured sections), for the console and the test. */
function pcr11(): string {
  const r = spawnSync('tpm2_pcrread', ['sha256:11'], {
    encoding: 'utf8',
    env: { ...process.env, TPM2TOOLS_TCTI: 'device:/dev/tpmrm0' },
  });
  const m = /11\s*:\s*0x([0-9A-Fa-f]{64})/.exec(r.stdout ?? '');
  return m?.[1] ? m[1].toLowerCase() : `unreadable (${(r.stderr ?? '').trim()})`;
}

function bootedEntry(): string {
  const entry = loaderVar('LoaderEntrySelected') ?? 'none (not booted by systemd-boot)';
  const counting = loaderVar('LoaderBootCountPath');
  return `booted entry ${entry}${counting ? `, tries counted at ${counting}` : ', not counted (blessed)'}`;
}

async function main(timeoutS: number): Promise<void> {
  say(`${bootedEntry()}; PCR 11 ${pcr11()}`);
  const deadline = Date.now() + timeoutS * 1000;
  let v: Verdict = { good: false, why: 'not assessed' };
  let said = '';
  while (Date.now() < deadline) {
    v = await assess().catch((err: Error) => ({ good: false, why: err.message }));
    if (v.good || v.why.startsWith('failed')) break;
    // Each new reason once: the console then shows what the assessment waited for.
    if (v.why !== said) {
      said = v.why;
      say(`waiting: ${said.slice(0, 200)}`);
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
  if (v.good) {
    say(`boot is good: ${v.why}`);
    return;
  }
  say(`boot is BAD: ${v.why}`);
  if (loaderVar('LoaderBootCountPath')) {
    say('this boot is counted: rebooting, so that systemd-boot tries again or falls back to the other slot');
    spawnSync('systemctl', ['--no-block', 'reboot']);
  }
  process.exit(EXIT_BAD);
}

const i = process.argv.indexOf('--timeout-s');
main(i > 0 ? Number(process.argv[i + 1]) : 900).catch((err: Error) => {
  say(`boot is BAD: ${err.message}`);
  process.exit(EXIT_BAD);
});
