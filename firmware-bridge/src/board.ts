/** The board service entry: what the runtime imports to drive the MCU (runtime/src/board). */
export type {
  BoardAuditSink,
  BoardDeps,
  BoardLed,
  BoardLog,
  BoardSerialSettings,
  BoardService,
} from './board/board.js';
export { type BoardOptions, createBoardService, McuBoardService } from './board/board-service.js';
