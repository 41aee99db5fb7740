import type { ShellRules } from '@elastos/scripts/dist/demo/story.js';
import { STORY_RULES } from '@elastos/scripts/dist/demo/story.js';

/** The story's rules, plus the suite's capsules: hammer writes its load, asker's writes go to the button. */
export const HIL_RULES: ShellRules = {
  rules: [
    ...STORY_RULES.rules.slice(0, -1),
    {
      capsule: 'hammer',
      audience: 'storage',
      resource: 'storage://hil/load/**',
      action: 'write',
      decision: 'allow',
      maxTtlMs: 3_600_000,
      maxUses: 10_000_000,
      note: 'the power-cut load',
    },
    {
      capsule: 'asker',
      audience: 'storage',
      resource: 'storage://hil/asked/**',
      action: 'write',
      decision: 'ask',
      maxTtlMs: 60_000,
      maxUses: 1,
      note: 'physical presence decides (the button)',
    },
    ...STORY_RULES.rules.slice(-1),
  ],
};
