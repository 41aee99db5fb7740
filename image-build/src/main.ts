/**
 * `npm run image -- --arch arm64|amd64 [--admin-key FILE.pub] [--publisher-key FILE] [--out DIR]`
 * builds the flashable image (image-build/README.md). Outputs in OUT/ARCH/: disk.img,
 * disk.img.zst, disk.img.bmap, vmlinuz, initrd.img, cmdline.txt, manifest.json, build-report.json.
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
  });
  process.stdout.write(`${report}\n`);
}

main().catch((err: unknown) => {
  const e = asElastosError(err);
  process.stderr.write(`error ${e.code}: ${e.message}\n`);
  process.exit(e.exitCode);
});
