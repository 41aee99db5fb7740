/**
 * `npm run image -- --arch arm64|amd64 [--admin-key FILE.pub] [--publisher-key FILE] [--out DIR] [--release N]
 *   [--bundle] [--update-key KEY.pem --update-cert CERT.pem] [--pcr-key KEY.pem | --no-pcr-policy]`
 * builds the flashable image (image-build/README.md). Outputs in OUT/ARCH/: disk.img,
 * disk.img.zst, disk.img.bmap, vmlinuz, initrd.img, cmdline.txt, uki/, rootfs.ext4, manifest.json,
 * build-report.json, and with --bundle update-VERSION.raucb.
 */
import { parseArgs } from 'node:util';
import { asElastosError } from '@elastos/runtime';
import { buildImage } from './build.js';

function options() {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: 'arm64' },
      'admin-key': { type: 'string' },
      'publisher-key': { type: 'string' },
      out: { type: 'string' },
      release: { type: 'string' },
      bundle: { type: 'boolean', default: false },
      'update-key': { type: 'string' },
      'update-cert': { type: 'string' },
      'pcr-key': { type: 'string' },
      'no-pcr-policy': { type: 'boolean', default: false },
    },
    strict: true,
  });
  return values;
}

async function main(): Promise<void> {
  const o = options();
  const report = await buildImage({
    arch: o.arch ?? 'arm64',
    adminKey: o['admin-key'],
    publisherKey: o['publisher-key'],
    out: o.out,
    version: o.release,
    bundle: o.bundle,
    updateKey: o['update-key'],
    updateCert: o['update-cert'],
    pcrKey: o['pcr-key'],
    pcrPolicy: !o['no-pcr-policy'],
  });
  process.stdout.write(`${report}\n`);
}

main().catch((err: unknown) => {
  const e = asElastosError(err);
  process.stderr.write(`error ${e.code}: ${e.message}\n`);
  process.exit(e.exitCode);
});
