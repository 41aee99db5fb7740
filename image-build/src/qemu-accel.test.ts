import assert from 'node:assert/strict';
import { hasCode } from '@elastos/runtime';
import { hostArch } from './arch.js';
import { qemuAccel } from './qemu-box.js';

describe('image: QEMU accelerator (ELASTOS_QEMU_ACCEL)', () => {
  it('tcg unless kvm is asked for; kvm only for a guest of the host arch; anything else refused', () => {
    assert.equal(qemuAccel('amd64', undefined), 'tcg');
    assert.equal(qemuAccel('amd64', ''), 'tcg');
    assert.equal(qemuAccel('arm64', 'tcg'), 'tcg');
    assert.equal(qemuAccel(hostArch(), 'kvm'), 'kvm');
    const other = hostArch() === 'amd64' ? 'arm64' : 'amd64';
    assert.throws(
      () => qemuAccel(other, 'kvm'),
      (e: Error) => hasCode(e, 'E_USAGE') && /kvm runs only/.test(e.message),
    );
    assert.throws(
      () => qemuAccel('amd64', 'hvf'),
      (e: Error) => hasCode(e, 'E_USAGE'),
    );
  });
});
