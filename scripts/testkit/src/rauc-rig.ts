/**
 * Debian's real RAUC on the host, for the update tests (runtime/spec/update.md): its D-Bus service
 * on a private session bus (RAUC's own test set-up: DBUS_STARTER_BUS_TYPE=session), two slots as
 * image files, an ESP directory with one UKI entry per slot, the image's custom boot loader
 * backend (rauc-bootloader) and bundle hook over it, and signed bundles made by `rauc bundle`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMAGE = fileURLToPath(new URL('../../../image-build/', import.meta.url));
export const RAUC_BACKEND = join(IMAGE, 'overlay/usr/lib/elastos/rauc-bootloader');
const HOOK = join(IMAGE, 'overlay-bundle/hook.sh');

export interface SignKey {
  cert: string;
  key: string;
}

/** A P-256 key and self-signed certificate (the image build's dev update key, made the same way). */
export function makeSignKey(dir: string, name: string): SignKey {
  mkdirSync(dir, { recursive: true });
  const k = { cert: join(dir, `${name}.cert.pem`), key: join(dir, `${name}.key.pem`) };
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30'],
      ...['-subj', `/CN=${name}`, '-keyout', k.key, '-out', k.cert],
    ],
    { stdio: 'ignore' },
  );
  return k;
}

export class RaucRig {
  readonly esp: string;
  readonly cmdline: string;
  readonly systemConf: string;
  readonly env: NodeJS.ProcessEnv;
  private dbus: number | undefined;
  private service: ChildProcess | undefined;

  constructor(
    readonly dir: string,
    readonly keyring: string,
    readonly compatible = 'elastos-pc2-amd64',
    /** Each slot image's size (`truncate -s`): the update benchmark writes a full-size root slot. */
    readonly slotSize = '16M',
  ) {
    this.esp = join(dir, 'esp');
    this.cmdline = join(dir, 'cmdline');
    this.systemConf = join(dir, 'system.conf');
    this.env = { ELASTOS_ESP: this.esp, ELASTOS_PROC_CMDLINE: this.cmdline, DBUS_STARTER_BUS_TYPE: 'session' };
  }

  slotImage(s: 'a' | 'b'): string {
    return join(this.dir, `slot-${s}.img`);
  }

  /** Slot A booted and good at `version`; slot B empty. */
  async start(version: number): Promise<void> {
    mkdirSync(join(this.esp, 'EFI/Linux'), { recursive: true });
    mkdirSync(join(this.dir, 'mnt'), { recursive: true });
    for (const s of ['a', 'b'] as const) execFileSync('truncate', ['-s', this.slotSize, this.slotImage(s)]);
    writeFileSync(join(this.esp, 'EFI/Linux/elastos-a.efi'), `MZ fake UKI\nIMAGE_VERSION=${version}\n`);
    this.boot('a');
    writeFileSync(this.systemConf, this.conf());
    const out = execFileSync('dbus-daemon', ['--session', '--fork', '--print-address=1', '--print-pid=1'], {
      encoding: 'utf8',
    }).split('\n');
    this.env.DBUS_SESSION_BUS_ADDRESS = out[0];
    this.dbus = Number(out[1]);
    await this.startService('a');
  }

  /** RAUC reads the booted slot from /proc/cmdline: on the host it is told (--override-boot-slot). */
  private async startService(booted: 'a' | 'b'): Promise<void> {
    this.service = spawn('rauc', [`--conf=${this.systemConf}`, 'service', `--override-boot-slot=${booted}`], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        execFileSync('rauc', ['status'], { env: { ...process.env, ...this.env }, stdio: 'ignore' });
        return;
      } catch {}
    }
    throw new Error('rauc service did not answer');
  }

  /** What the kernel command line says after a boot of slot `s` (RAUC and the runtime read it). */
  boot(s: 'a' | 'b'): void {
    writeFileSync(this.cmdline, `root=PARTUUID=test ro rauc.slot=${s}\n`);
  }

  /** A "reboot" into slot `s`: the command line, and RAUC's service restarted on it. */
  async reboot(s: 'a' | 'b'): Promise<void> {
    await this.stopService();
    this.boot(s);
    await this.startService(s);
  }

  entries(): string[] {
    return execFileSync('ls', [join(this.esp, 'EFI/Linux')], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .sort();
  }

  private conf(): string {
    return [
      '[system]',
      `compatible=${this.compatible}`,
      'bootloader=custom',
      'bundle-formats=plain',
      `mountprefix=${join(this.dir, 'mnt')}`,
      `data-directory=${join(this.dir, 'data')}`,
      '[keyring]',
      `path=${this.keyring}`,
      '[handlers]',
      `bootloader-custom-backend=${RAUC_BACKEND}`,
      ...['a', 'b'].flatMap((s, i) => [
        `[slot.rootfs.${i}]`,
        `device=${this.slotImage(s as 'a')}`,
        'type=raw', // as the image's system.conf (image-build/src/rauc.ts): written byte for byte, never mounted
        `bootname=${s}`,
      ]),
      '',
    ].join('\n');
  }

  async stop(): Promise<void> {
    await this.stopService();
    if (this.dbus) {
      try {
        process.kill(this.dbus, 'SIGTERM');
      } catch {}
    }
  }

  private async stopService(): Promise<void> {
    const s = this.service;
    if (s && s.exitCode === null && s.signalCode === null) {
      const gone = new Promise((r) => s.once('exit', r));
      s.kill('SIGTERM');
      await gone;
    }
  }
}

/**
 * A signed plain bundle of a root slot whose UKIs say IMAGE_VERSION=version: a small ext4 made
 * here, or `rootfs` (an ext4 image, copied sparse as the image build does).
 */
export function makeTestBundle(
  work: string,
  o: { version: string; key: SignKey; compatible?: string; out: string; rootfs?: string },
): string {
  const dir = join(work, `bundle-${o.version}`);
  rmSync(dir, { recursive: true, force: true });
  if (o.rootfs) {
    mkdirSync(dir, { recursive: true });
    execFileSync('cp', ['--sparse=always', o.rootfs, join(dir, 'rootfs.ext4')]);
  } else {
    mkdirSync(join(dir, 'tree/etc'), { recursive: true });
    writeFileSync(join(dir, 'tree/etc/os-release'), `ID=elastos\nIMAGE_VERSION=${o.version}\n`);
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', join(dir, 'tree'), join(dir, 'rootfs.ext4'), '8M']);
    rmSync(join(dir, 'tree'), { recursive: true });
  }
  for (const s of ['a', 'b']) writeFileSync(join(dir, `elastos-${s}.efi`), `MZ fake UKI\nIMAGE_VERSION=${o.version}\n`);
  copyFileSync(HOOK, join(dir, 'hook.sh'));
  chmodSync(join(dir, 'hook.sh'), 0o755);
  const manifest = ['[update]', `compatible=${o.compatible ?? 'elastos-pc2-amd64'}`, `version=${o.version}`];
  manifest.push('[bundle]', 'format=plain', '[hooks]', 'filename=hook.sh', '[image.rootfs]', 'filename=rootfs.ext4');
  writeFileSync(join(dir, 'manifest.raucm'), `${manifest.join('\n')}\nhooks=post-install\n`);
  rmSync(o.out, { force: true });
  execFileSync('rauc', ['bundle', `--cert=${o.key.cert}`, `--key=${o.key.key}`, dir, o.out], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
  return o.out;
}

/** SHA-256 of a file, to show a refused bundle wrote nothing. */
export function fileHash(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0] ?? '';
}

export const readText = (f: string) => readFileSync(f, 'utf8');
