import assert from 'node:assert/strict';
import { join } from 'node:path';
import { McuBoardService } from '@elastos/firmware-bridge/board/board-service';
import { SimRig } from '@elastos/firmware-bridge/testing/pty-rig';
import { SerialPortTransport } from '@elastos/firmware-bridge/transport/serialport-transport';
import { GENESIS_HASH } from '@elastos/protocol/audit/record';
import { makeTempDir } from '@elastos/testkit';
import { AuditLog, type AuditRecord, createLogger, Store, walkChain } from '../index.js';

describe('board service into the real audit log', function () {
  this.timeout(20_000);

  it('records MCU events durably in the hash chain before acknowledging them', async () => {
    const rig = await SimRig.start({ ackTimeoutMs: 30 });
    const tmp = makeTempDir();
    const store = await Store.open(join(tmp.path, 'store'));
    const audit = await AuditLog.open(store);
    const serial = {
      path: rig.hostPath,
      baudRate: 115200,
      watchdogMs: 1000,
      clockSyncMarker: '',
      presenceWindowMs: 2000,
    };
    const log = createLogger({ name: 'board-audit', level: 'silent' });
    const board = new McuBoardService({ serial, log, audit }, { transport: new SerialPortTransport(rig.hostPath) });
    try {
      await board.start();
      await board.bridge.whenReady(5000);
      const approval = board.confirmPresence(3000);
      await rig.sim.press(2500);
      assert.equal(await approval, true);
      await rig.sim.log('info', 'hello from the MCU');
      await board.stop();
      await audit.flush();
      const records: AuditRecord[] = [];
      for await (const r of walkChain(store, { seq: 0, prev: GENESIS_HASH })) records.push(r.record);
      const types = records.map((r) => r.type);
      for (const t of ['mcu.link.up', 'mcu.boot', 'mcu.watchdog.arm', 'mcu.button', 'mcu.presence', 'mcu.log']) {
        assert.ok(types.includes(t), `${t} missing from ${types.join(', ')}`);
      }
      assert.ok(records.every((r) => r.actor === 'mcu'));
      assert.equal(records.find((r) => r.type === 'mcu.presence')?.decision, 'allow');
    } finally {
      await audit.close();
      await store.close();
      await rig.close();
      tmp.remove();
    }
  });
});
