import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pcrPolicyDigest, pcrSelection } from '@elastos/node-tpm2';
import { capsuleId } from '@elastos/protocol/capsules/package-codec';
import { makeTempDir } from '@elastos/testkit';
import { type BootEvent, parseEventLog, replay } from '@elastos/verifier/attest/event-log';
import fc from 'fast-check';
import { ElastosError } from '../errors/index.js';
import { capsuleDigestHex } from './capsule-digest.js';
import { closureFiles } from './code-set.js';
import { canonicalJson, setDigest, setManifest, treeDigest, treeManifest } from './measure.js';

interface Vectors {
  tree: { files: Record<string, string>; include: string[]; manifest: string; digest: string };
  canonicalJson: { value: unknown; text: string };
  replay: { pcr: number; events: BootEvent[]; value: string };
  emptyTree: { digest: string };
  pcrPolicy: { pcr: number; pcrValue: string; selection: string; policy: string };
  closure: {
    layouts: Record<string, { files: Record<string, string>; links: Record<string, string>; root: string }>;
    manifest: string;
    digest: string;
  };
}
const vectors = JSON.parse(readFileSync(new URL('../../spec/boot-vectors.json', import.meta.url), 'utf8')) as Vectors;

describe('boot formats (runtime/spec/boot.md, spec/boot-vectors.json)', () => {
  it('tree manifest and digest: sha256sum lines sorted by path bytes', () => {
    const dir = makeTempDir('vectors-');
    try {
      for (const [name, text] of Object.entries(vectors.tree.files)) {
        mkdirSync(dirname(join(dir.path, name)), { recursive: true });
        writeFileSync(join(dir.path, name), text);
      }
      assert.equal(treeManifest(dir.path, vectors.tree.include), vectors.tree.manifest);
      assert.equal(treeDigest(dir.path, vectors.tree.include), vectors.tree.digest);
      assert.equal(treeDigest(join(dir.path, 'missing'), ['.']), vectors.emptyTree.digest);
    } finally {
      dir.remove();
    }
  });

  for (const [layout, l] of Object.entries(vectors.closure.layouts))
    it(`code set of the runtime and its dependency closure: ${layout} layout (§2.3)`, async () => {
      const dir = makeTempDir('closure-');
      try {
        for (const [name, text] of Object.entries(l.files)) {
          mkdirSync(dirname(join(dir.path, name)), { recursive: true });
          writeFileSync(join(dir.path, name), text);
        }
        for (const [name, target] of Object.entries(l.links)) {
          mkdirSync(dirname(join(dir.path, name)), { recursive: true });
          symlinkSync(target, join(dir.path, name));
        }
        const files = closureFiles(join(dir.path, l.root));
        assert.equal(await setManifest(files), vectors.closure.manifest);
        assert.equal(await setDigest(files), vectors.closure.digest);
      } finally {
        dir.remove();
      }
    });

  it('canonical JSON of the config sorts keys', () => {
    assert.equal(canonicalJson(vectors.canonicalJson.value), vectors.canonicalJson.text);
    const digest = createHash('sha256').update(vectors.canonicalJson.text).digest('hex');
    assert.equal(vectors.replay.events[1]?.digest, digest);
  });

  it('event log replay and the PolicyPCR digest', () => {
    assert.equal(replay(vectors.replay.events, vectors.replay.pcr), vectors.replay.value);
    const p = vectors.pcrPolicy;
    assert.equal(Buffer.from(pcrSelection(p.pcr)).toString('hex'), p.selection);
    assert.equal(Buffer.from(pcrPolicyDigest(p.pcr, Buffer.from(p.pcrValue, 'hex'))).toString('hex'), p.policy);
  });

  it('a capsule id decodes to the content digest it was made from', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
        return capsuleDigestHex(capsuleId(digest)) === Buffer.from(digest).toString('hex');
      }),
      { numRuns: 300 },
    );
  });

  it('an event log parser that rejects anything malformed with a code', () => {
    const good = Buffer.from(JSON.stringify({ version: 1, pcr: 23, events: vectors.replay.events }));
    assert.equal(parseEventLog(good).events.length, 2);
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        try {
          parseEventLog(Buffer.from(text));
          return true;
        } catch (err) {
          return err instanceof ElastosError && err.code === 'E_ATTEST_INVALID';
        }
      }),
      { numRuns: 500 },
    );
  });
});
