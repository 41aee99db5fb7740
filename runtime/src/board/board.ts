/**
 * The board's microcontroller, through the firmware bridge (a library the runtime imports):
 * started only when `serial.path` is set. The bridge defines the service and what it needs
 * (firmware-bridge/src/board/board.ts); the runtime hands it its logger, audit sink and health.
 */
import { type BoardDeps, type BoardService, createBoardService } from '@elastos/firmware-bridge/board';

export type { BoardDeps, BoardLed, BoardService } from '@elastos/firmware-bridge/board';

/** Starts the board service over the configured serial device. */
export async function startBoard(deps: BoardDeps): Promise<BoardService> {
  const board = createBoardService(deps);
  await board.start();
  return board;
}
