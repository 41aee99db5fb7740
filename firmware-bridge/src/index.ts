export type {
  BoardAuditSink,
  BoardDeps,
  BoardLed,
  BoardLog,
  BoardSerialSettings,
  BoardService,
} from './board/board.js';
export { type BoardOptions, createBoardService, McuBoardService } from './board/board-service.js';
export { CLOCK_FLOOR_MS, systemClockTrusted } from './board/system-clock.js';
export { type BridgeOptions, DEFAULT_BRIDGE_OPTIONS, McuBridge } from './bridge/bridge.js';
export { Link, type LinkStats } from './link/link.js';
export { cobsDecode, cobsEncode } from './protocol/cobs.js';
export { Deframer } from './protocol/deframer.js';
export { decodeFrame, encodeFrame, type Frame, MAX_PAYLOAD } from './protocol/frame.js';
export * from './protocol/messages.js';
export { type Faults, FaultyTransport, NO_FAULTS } from './simulator/faults.js';
export { McuSimulator, type SimulatorOptions } from './simulator/mcu-simulator.js';
export { SerialPortTransport } from './transport/serialport-transport.js';
export type { Transport } from './transport/transport.js';
