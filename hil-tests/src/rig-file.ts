/**
 * A rig file (YAML, parsed by `yaml`, checked by `ajv` against RIG_SCHEMA): the rig's name, its
 * backend and the addresses of its parts. A missing or wrong field is refused with one line
 * naming it (E_RIG_FILE), before anything starts.
 */
import { readFileSync } from 'node:fs';
import { ElastosError } from '@elastos/protocol/errors';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';

export interface LocalSettings {
  /** The runtime's watchdog period on the MCU (ms). */
  watchdogMs: number;
  /** How many power cuts the power-cut test makes. */
  powerCuts: number;
}

export interface QemuSettings {
  /** image-build's output for one arch (disk.img, vmlinuz, initrd.img, cmdline.txt); relative to the repo. */
  imageDir: string;
  arch: 'arm64' | 'amd64';
  /** The image's publisher key (its trust store trusts it): signs the suite's capsules. */
  publisherKey: string;
  /** Host port forwarded to the guest's sshd. */
  sshPort: number;
  powerCuts: number;
  /** Seconds a boot may take before the rig gives up. */
  bootTimeoutS: number;
}

export interface BoardSettings {
  /** The console's serial device on the rig host, e.g. /dev/ttyUSB0. */
  console: { device: string; baudRate: number };
  ssh: { host: string; port: number; user: string; key: string; rootKey: string; knownHosts: string };
  /** Shell commands of the lab (a relay, a PDU, `labgrid-client power ...`). */
  power: { on: string; off: string; cut: string };
  /** The MCU's test header as the lab drives it (button relay, watchdog hold jumper). */
  mcu: { press: string; holdWatchdog: string; releaseWatchdog: string };
  /** The publisher key the box's trust store trusts: signs the suite's capsules. */
  publisherKey: string;
  powerCuts: number;
  bootTimeoutS: number;
}

export type RigFile =
  | { name: string; backend: 'local'; local: LocalSettings }
  | { name: string; backend: 'qemu'; qemu: QemuSettings }
  | { name: string; backend: 'board'; board: BoardSettings };

const str = { type: 'string', minLength: 1 };
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });
const obj = (properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
});

export const RIG_SCHEMA = {
  type: 'object',
  required: ['name', 'backend'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,40}$' },
    backend: { enum: ['local', 'qemu', 'board'] },
    local: obj({ watchdogMs: int(1000, 600000), powerCuts: int(1, 1000) }),
    qemu: obj({
      imageDir: str,
      arch: { enum: ['arm64', 'amd64'] },
      publisherKey: str,
      sshPort: int(1024, 65535),
      powerCuts: int(1, 1000),
      bootTimeoutS: int(10, 3600),
    }),
    board: obj({
      console: obj({ device: str, baudRate: int(300, 4000000) }),
      ssh: obj({ host: str, port: int(1, 65535), user: str, key: str, rootKey: str, knownHosts: str }),
      power: obj({ on: str, off: str, cut: str }),
      mcu: obj({ press: str, holdWatchdog: str, releaseWatchdog: str }),
      publisherKey: str,
      powerCuts: int(1, 1000),
      bootTimeoutS: int(10, 3600),
    }),
  },
  additionalProperties: false,
} as const;

const validate = new Ajv({ allErrors: false, strict: false }).compile(RIG_SCHEMA);

/** One line naming the field: `board.ssh.port: must be integer`. */
function describe(err: ErrorObject): string {
  const path = err.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const p = err.params as { missingProperty?: string; additionalProperty?: string };
  if (p.missingProperty) return `${path ? `${path}.` : ''}${p.missingProperty}: missing`;
  if (p.additionalProperty) return `${path ? `${path}.` : ''}${p.additionalProperty}: unknown field`;
  return `${path || '(top)'}: ${err.message ?? 'invalid'}`;
}

/** Parses and checks a rig file's text; `source` names it in the error. */
export function parseRigFile(text: string, source: string): RigFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new ElastosError('E_RIG_FILE', `${source}: not YAML: ${(cause as Error).message.split('\n')[0]}`, { cause });
  }
  if (!validate(doc)) {
    const first = validate.errors?.[0];
    throw new ElastosError('E_RIG_FILE', `${source}: ${first ? describe(first) : 'invalid'}`);
  }
  const file = doc as RigFile & Record<string, unknown>;
  // The backend's own section is required (kept out of the schema: biome forbids a `then` key).
  if (file[file.backend] === undefined) throw new ElastosError('E_RIG_FILE', `${source}: ${file.backend}: missing`);
  return file;
}

export function loadRigFile(path: string, env: NodeJS.ProcessEnv = process.env): RigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ElastosError('E_RIG_FILE', `${path}: cannot read the rig file`, { cause });
  }
  return withOverrides(parseRigFile(text, path), env);
}

/**
 * What a run may change without another rig file (`npm run hil -- --cuts N --image DIR`): the
 * number of power cuts (a long series split across runs) and, on the qemu rig, another image
 * (e.g. one built with the store's sync turned off, README.md). Checked like the file.
 */
export function withOverrides(file: RigFile, env: NodeJS.ProcessEnv): RigFile {
  const cuts = env.HIL_POWER_CUTS;
  if (cuts !== undefined && cuts !== '') {
    const n = Number(cuts);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new ElastosError(
        'E_RIG_FILE',
        `HIL_POWER_CUTS: must be an integer from 1 to 1000, not ${cuts.slice(0, 20)}`,
      );
    const settings = file.backend === 'local' ? file.local : file.backend === 'qemu' ? file.qemu : file.board;
    settings.powerCuts = n;
  }
  const image = env.HIL_QEMU_IMAGE;
  if (image !== undefined && image !== '') {
    if (file.backend !== 'qemu')
      throw new ElastosError('E_RIG_FILE', `HIL_QEMU_IMAGE: rig ${file.name} is ${file.backend}, not qemu`);
    file.qemu.imageDir = image;
  }
  return file;
}
