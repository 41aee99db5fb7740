/** Entry loaded by the runtime's `startBoard` (runtime/src/board/board.ts) when serial.path is set. */
export { createBoardService, McuBoardService } from './board/board-service.js';
