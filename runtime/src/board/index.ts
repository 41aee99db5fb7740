export { type BoardDeps, type BoardLed, type BoardService, startBoard } from './board.js';
