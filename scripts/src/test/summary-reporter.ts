import Mocha from 'mocha';

const { EVENT_RUN_END } = Mocha.Runner.constants;

/**
 * mocha's spec reporter plus the closing line CI reads: `N passed, N failed` on its own
 * (`, N skipped` when any test was pending).
 */
export default class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      if (!s) return;
      const skipped = s.pending > 0 ? `, ${s.pending} skipped` : '';
      process.stdout.write(`\n${s.passes} passed, ${s.failures} failed${skipped}\n`);
    });
  }
}
