/**
 * Test support: the story's runtime, for real. Writes a dev config beside `dir`, trusts the dev
 * publisher, provisions the sealed key on the given swtpm, starts `elastosd` (its output in
 * `dir/elastosd.log`), waits for its admin socket and sets the story up (capsules built,
 * signed, installed, started). Used by the story's and the SSH approval's tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ElastosConfig, loadConfig, provisionRuntimeKey, Store } from '@elastos/runtime';
import { ELASTOSD, pollFor, type Swtpm, stopChild, swtpmDevConfig } from '@elastos/testkit';
import { adminCaller, type ShellRules, STORY_RULES, setUpStory, trustDevPublisher } from './story.js';

export interface StoryDaemon {
  daemon: ChildProcess;
  call: ReturnType<typeof adminCaller>;
  config: ElastosConfig;
  configPath: string;
  /** SIGTERM, and wait for the runtime's orderly stop. */
  stop(): Promise<void>;
}

export async function startStoryDaemon(options: {
  dir: string;
  swtpm: Swtpm;
  /** Merged into the dev config (e.g. `admin`, `confine`). */
  config?: Record<string, unknown>;
  rules?: ShellRules;
}): Promise<StoryDaemon> {
  const { dir, swtpm } = options;
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(swtpmDevConfig(swtpm.tcti, options.config)));
  chmodSync(configPath, 0o644); // other users (an admin over SSH) read it to find the socket
  const config = loadConfig(configPath);
  await trustDevPublisher(config, dir);
  const store = await Store.open(join(config.stateDir, 'store'));
  await provisionRuntimeKey(config, store, 'new');
  await store.close();
  const out = openSync(join(dir, 'elastosd.log'), 'a'); // capsules' warnings stay out of the report
  const daemon = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', out, out] });
  const call = adminCaller(config.admin.socket);
  await pollFor(
    "elastosd's admin socket",
    async () => {
      if (daemon.exitCode !== null) throw new Error(`elastosd exited with ${daemon.exitCode}: see ${dir}/elastosd.log`);
      return call('version').then(
        () => true,
        () => undefined,
      );
    },
    30_000,
    50,
  );
  await setUpStory(call, config, dir, () => undefined, options.rules ?? STORY_RULES);
  return {
    daemon,
    call,
    config,
    configPath,
    stop: async () => {
      await stopChild(daemon);
    },
  };
}
