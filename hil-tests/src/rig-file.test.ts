import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasCode } from '@elastos/protocol/errors';
import { parseRigFile, withOverrides } from './rig-file.js';

const RIGS = fileURLToPath(new URL('../rigs/', import.meta.url));
const refused = (yaml: string, line: RegExp) =>
  assert.throws(
    () => parseRigFile(yaml, 'x.yaml'),
    (e: Error) => hasCode(e, 'E_RIG_FILE') && !e.message.includes('\n') && line.test(e.message),
  );

describe('rig files (YAML, checked against RIG_SCHEMA)', () => {
  it('accepts every rig file shipped in rigs/', () => {
    for (const f of readdirSync(RIGS).filter((n) => n.endsWith('.yaml'))) {
      const rig = parseRigFile(readFileSync(`${RIGS}${f}`, 'utf8'), f);
      assert.ok(rig.name.length > 0, f);
    }
  });

  it('refuses a missing or wrong field in one line naming it', () => {
    refused('backend: local\nlocal: {watchdogMs: 3000, powerCuts: 3}\n', /^x\.yaml: name: missing$/);
    refused('name: a\nbackend: local\n', /^x\.yaml: local: missing$/);
    refused('name: a\nbackend: local\nlocal: {watchdogMs: 3000}\n', /^x\.yaml: local\.powerCuts: missing$/);
    refused(
      'name: a\nbackend: local\nlocal: {watchdogMs: fast, powerCuts: 3}\n',
      /^x\.yaml: local\.watchdogMs: must be integer$/,
    );
    refused('name: a\nbackend: toaster\n', /^x\.yaml: backend: must be equal to one of the allowed values$/);
    refused(
      'name: a\nbackend: local\nlocal: {watchdogMs: 3000, powerCuts: 3, color: red}\n',
      /^x\.yaml: local\.color: unknown field$/,
    );
    const board = readFileSync(`${RIGS}board.example.yaml`, 'utf8');
    refused(board.replace('port: 22', 'port: twenty-two'), /^x\.yaml: board\.ssh\.port: must be integer$/);
    refused(board.replace(/^ {4}rootKey:.*\n/m, ''), /^x\.yaml: board\.ssh\.rootKey: missing$/);
    refused('name: a\n  backend: : [\n', /^x\.yaml: not YAML: /);
  });

  it('a run may change the power cuts and the qemu image (--cuts, --image); a bad value is refused in one line', () => {
    const qemu = () => parseRigFile(readFileSync(`${RIGS}qemu.yaml`, 'utf8'), 'qemu.yaml');
    const local = () => parseRigFile('name: a\nbackend: local\nlocal: {watchdogMs: 3000, powerCuts: 3}\n', 'x.yaml');
    const q = withOverrides(qemu(), { HIL_POWER_CUTS: '4', HIL_QEMU_IMAGE: '/tmp/nosync/amd64' });
    assert.ok(q.backend === 'qemu' && q.qemu.powerCuts === 4 && q.qemu.imageDir === '/tmp/nosync/amd64');
    const same = withOverrides(qemu(), {});
    assert.ok(same.backend === 'qemu' && same.qemu.powerCuts === 10 && same.qemu.imageDir === '.run/image/amd64');
    const l = withOverrides(local(), { HIL_POWER_CUTS: '1' });
    assert.ok(l.backend === 'local' && l.local.powerCuts === 1);
    const bad = (env: NodeJS.ProcessEnv, line: RegExp) =>
      assert.throws(
        () => withOverrides(qemu(), env),
        (e: Error) => hasCode(e, 'E_RIG_FILE') && !e.message.includes('\n') && line.test(e.message),
      );
    for (const v of ['0', '2.5', 'ten', '1001']) bad({ HIL_POWER_CUTS: v }, /^HIL_POWER_CUTS: must be an integer/);
    assert.throws(
      () => withOverrides(local(), { HIL_QEMU_IMAGE: '/x' }),
      (e: Error) => hasCode(e, 'E_RIG_FILE') && /^HIL_QEMU_IMAGE: rig a is local, not qemu$/.test(e.message),
    );
  });
});
