/**
 * The boundaries of the house (DESIGN.md "Boundaries", architecture.md): who may import whom.
 * Checked by `npm test` (scripts/src/test/boundaries.test.ts runs `depcruise` with this file);
 * a new crossing fails the run. Paths are repository-relative; a workspace package resolves to
 * its own folder (src or dist), so each rule names folders, not package names.
 *
 * Tests, benchmarks, fixtures and the testkit may import anything: they are not shipped.
 */

/** Ours: every workspace folder. */
const OURS = '^(runtime|capsules|firmware-bridge|scripts|hil-tests|image-build)/';
/** Code that is not shipped: tests, benchmarks, test fixtures and rigs, the testkit. */
const NOT_SHIPPED = [
  '\\.test\\.ts$',
  '\\.bench\\.ts$',
  '/fixtures/',
  '^firmware-bridge/src/testing/',
  '^scripts/testkit/',
  '^runtime/bench/',
  '^hil-tests/',
  '^image-build/',
];

const PROTOCOL = '^runtime/protocol/';
const SDK = '^capsules/sdk/';
const BRIDGE = '^firmware-bridge/';
const TPM = '^runtime/node-tpm2/';
const VERIFIER = '^runtime/verifier/';
const CORE = '^runtime/(src|dist|bin|launcher|native)/';
const CLI = '^scripts/src/cli/';
const PUBLISHER = '^scripts/publisher/';

/** A rule: code in `from` (shipped code only) may import nothing of ours outside `allowed`. */
function onlyOurs(name, comment, from, allowed) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: from, pathNot: NOT_SHIPPED },
    to: { path: OURS, pathNot: allowed },
  };
}

module.exports = {
  forbidden: [
    onlyOurs(
      'protocol-is-a-leaf',
      'The contract (error codes, wire formats) sits at the bottom: it imports nothing of ours, so that every room can depend on it without depending on each other.',
      PROTOCOL,
      [PROTOCOL],
    ),
    onlyOurs(
      'node-tpm2-is-a-leaf',
      'The TPM binding is a library: it knows nothing of the runtime that uses it.',
      TPM,
      [TPM],
    ),
    onlyOurs(
      'verifier-only-the-contract',
      'The offline verifiers (attestations, release manifests, audit exports and their proofs) run on another machine with no runtime and no TPM; the runtime imports the checks it also runs (checkpoints, the keyring), so there is one copy.',
      VERIFIER,
      [VERIFIER, PROTOCOL],
    ),
    onlyOurs(
      'publisher-only-the-contract',
      "The publisher's tools (build and sign packages) work from the format alone: a vendor runs them without the runtime.",
      PUBLISHER,
      [PUBLISHER, PROTOCOL],
    ),
    onlyOurs(
      'sdk-only-the-contract',
      'What a capsule imports: the SDK speaks to the runtime over IPC, by the contract, never through runtime code.',
      SDK,
      [SDK, PROTOCOL],
    ),
    onlyOurs(
      'capsules-only-sdk-and-contract',
      'A capsule (the shell included) is a stranger: it reaches the runtime only over IPC. Runtime code in a capsule bundle would ship the core into every capsule and couple both sides.',
      '^capsules/(?!sdk/)[^/]+/',
      ['^capsules/([^/]+)/', SDK, PROTOCOL],
    ),
    {
      name: 'capsules-not-each-other',
      comment: 'Capsules are separate rooms: one capsule never imports another (only the SDK and the contract).',
      severity: 'error',
      from: { path: '^capsules/(?!sdk/)([^/]+)/', pathNot: NOT_SHIPPED },
      to: { path: '^capsules/(?!sdk/)', pathNot: ['^capsules/$1/'] },
    },
    onlyOurs(
      'bridge-only-the-contract',
      'The firmware bridge is a library the runtime uses: it defines the interfaces it needs (board.ts) and imports only the contract.',
      BRIDGE,
      [BRIDGE, PROTOCOL],
    ),
    {
      name: 'bridge-builds-without-runtime',
      comment:
        'The bridge, its tests included, builds and tests without the runtime: a firmware vendor can take it alone.',
      severity: 'error',
      from: { path: BRIDGE },
      to: { path: '^runtime/(?!protocol/)' },
    },
    onlyOurs(
      'core-not-tools-or-guests',
      'The trusted core (elastosd) uses the contract, the TPM binding, the verifier and the bridge as libraries; it never imports capsules, the CLI, dev scripts, the testkit or benchmarks.',
      CORE,
      [CORE, PROTOCOL, TPM, VERIFIER, BRIDGE],
    ),
    {
      name: 'cli-uses-the-public-runtime',
      comment:
        "The admin CLI talks to elastosd over the admin socket (the contract's admin protocol) and uses the runtime's public entry for offline work and the verifier for checks with no runtime; it never reaches into the core's internals.",
      severity: 'error',
      from: { path: CLI, pathNot: NOT_SHIPPED },
      to: {
        path: OURS,
        pathNot: [
          CLI,
          PROTOCOL,
          TPM,
          VERIFIER,
          PUBLISHER,
          '^runtime/(src|dist)/index\\.(ts|js)$',
          '^scripts/src/capsule/',
          '^scripts/src/[^/]+\\.(ts|js)$',
        ],
      },
    },
    {
      name: 'shipped-code-not-test-code',
      comment: 'Shipped code never imports tests, fixtures, rigs or the testkit.',
      severity: 'error',
      from: {
        path: OURS,
        pathNot: NOT_SHIPPED.concat([
          '^scripts/src/(dev-up|test-all|bench-all|build-capsules)\\.ts$',
          '^scripts/src/(demo|test)/',
        ]),
      },
      to: { path: NOT_SHIPPED },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that does not resolve is a broken boundary (or a missing build).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '/dist/'] },
    exclude: { path: ['\\.d\\.ts$'] },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.node'],
    },
    tsConfig: { fileName: 'tsconfig.base.json' },
  },
};
