import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimRig } from '@elastos/firmware-bridge/testing/pty-rig';
import { makeTempDir, noTpmDevConfig } from '@elastos/testkit';
import { AdminClient, createLogger, loadConfig, Runtime } from '../index.js';

describe('the daemon with serial.path set (runtime/src/daemon/runtime.ts)', function () {
  this.timeout(20_000);

  it('loads the board module, answers board.status, and disarms the watchdog on stop', async () => {
    const rig = await SimRig.start();
    const tmp = makeTempDir();
    const configPath = join(tmp.path, 'config.json');
    const serial = { path: rig.hostPath, watchdogMs: 2000, clockSyncMarker: '' };
    // No TPM in this test (the TPM room's tests run the daemon on swtpm): dev's explicit insecure mode.
    writeFileSync(configPath, JSON.stringify(noTpmDevConfig({ serial })));
    const config = loadConfig(configPath);
    const runtime = new Runtime(config, createLogger({ name: 'wiring', level: 'silent' }));
    try {
      await runtime.start();
      const deadline = Date.now() + 5000;
      while (!rig.sim.watchdog.armed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(rig.sim.watchdog.armed, true);
      const client = await AdminClient.connect(config.admin.socket);
      const status = (await client.call('board.status', {})) as { identity: { serial: string } };
      client.close();
      assert.equal(status.identity.serial, 'SIM-0001');
    } finally {
      await runtime.stop();
      await rig.close();
      tmp.remove();
    }
    assert.equal(rig.sim.watchdog.armed, false, 'an orderly stop is not a hang');
  });
});
