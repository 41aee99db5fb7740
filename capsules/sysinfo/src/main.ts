/**
 * The sysinfo provider: health (CPU temperature, load, memory, disk) for capsules holding an
 * `invoke:health` token on `sysinfo://health`. Sampled every SAMPLE_MS; served from the last sample.
 */
import { CapsuleError, identity, serve } from '@elastos/capsule-sdk';
import { type Health, sample } from './health.js';

const SAMPLE_MS = 5000;
const { dataDir } = identity();
let last: Health | undefined;
let first: Promise<Health> | undefined;

async function refresh(): Promise<Health> {
  last = await sample(dataDir);
  return last;
}

first = refresh();
setInterval(() => void refresh().catch(() => undefined), SAMPLE_MS).unref();

serve({
  health: async (req) => {
    if (req.resource !== 'sysinfo://health') throw new CapsuleError('E_NOT_FOUND', `no reading ${req.resource}`);
    return last ?? (await first);
  },
});
process.stdout.write('sysinfo ready\n');
process.on('SIGTERM', () => process.exit(0));
