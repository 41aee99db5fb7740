import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon } from '../daemon-call.js';

/** `board status`: the MCU link as the runtime sees it (firmware-bridge/README.md). */
export function registerBoardCommands(program: Command): void {
  const board = program.command('board').description('the board microcontroller: watchdog, LED, button, RTC');
  board
    .command('status')
    .description('show the MCU identity, link state and counters, LED, clock source (needs serial.path)')
    .action(action(program, (opts) => callDaemon(opts, 'board.status')));
}
