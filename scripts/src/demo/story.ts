/**
 * The seed's story for `npm start` (capsules/README.md): trust the dev publisher key, install
 * the first-party capsules through the runtime (audited), give storage its photo and the shell
 * its rules on first install, start the capsules, then tell what happens from the audit trail.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdminClient,
  decodePackage,
  type ElastosConfig,
  hasCode,
  loadTrustStore,
  publicKeyEntry,
  Store,
  trustKey,
  withOfflineAudit,
} from '@elastos/runtime';
import type { Rule } from '@elastos/shell';
import { type BuiltCapsule, buildFirstParty, devPublisherKey } from '../capsule/build-first-party.js';
import { vacationPhoto } from './demo-photo.js';
import { storyLine, type TrailRecord } from './narrate.js';

/** The shell's rules for the story (capsules/shell/README.md): first match decides; the rest is denied. */
export const STORY_RULES: ShellRules = {
  rules: [
    {
      capsule: 'photo-editor',
      audience: 'storage',
      resource: 'storage://photos/vacation.jpg',
      action: 'read',
      decision: 'allow',
      maxTtlMs: 3_600_000,
      maxUses: 100,
      note: 'the photo editor may open the vacation photo for an hour',
    },
    {
      capsule: 'photo-editor',
      audience: 'storage',
      resource: 'storage://photos/vacation-edited.jpg',
      action: 'write',
      decision: 'allow',
      maxTtlMs: 600_000,
      maxUses: 64,
      note: 'and save its edited copy',
    },
    {
      capsule: 'agent',
      audience: 'storage',
      resource: 'storage://notes/todo.txt',
      action: 'read',
      decision: 'allow-log',
      maxTtlMs: 1_800_000,
      maxUses: 100,
      note: 'the agent may read the todo list for 30 minutes, logged in detail',
    },
    {
      capsule: 'notes',
      audience: 'storage',
      resource: 'storage://notes/**',
      action: '*',
      decision: 'allow',
      maxTtlMs: 86_400_000,
    },
    { capsule: 'notes', audience: 'sysinfo', resource: 'sysinfo://health', action: 'invoke:health', decision: 'allow' },
    { capsule: '*', resource: '**', action: '*', decision: 'deny', note: 'not in the rules' },
  ],
};

/** The shell's rules file (capsules/shell/README.md). */
export interface ShellRules {
  rules: Rule[];
}

type Say = (line: string) => void;
type Call = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;

export function adminCaller(socket: string): Call {
  return async (cmd, args = {}) => {
    const client = await AdminClient.connect(socket);
    try {
      return await client.call(cmd, args);
    } finally {
      client.close();
    }
  };
}

/** First install only: what storage serves and what the shell decides by (data dirs are the capsules'). */
function seed(config: ElastosConfig, name: string, say: Say, rules: ShellRules): void {
  const data = join(config.stateDir, 'capsules', name, 'data');
  if (name === 'storage' && !existsSync(join(data, 'files'))) {
    mkdirSync(join(data, 'files', 'photos'), { recursive: true });
    writeFileSync(join(data, 'files', 'photos', 'vacation.jpg'), vacationPhoto());
    say('seeded storage with photos/vacation.jpg');
  }
  if (name === 'shell' && !existsSync(join(data, 'rules.json'))) {
    writeFileSync(join(data, 'rules.json'), `${JSON.stringify(rules, null, 2)}\n`);
    say(`shell rules: ${join(data, 'rules.json')}`);
  }
}

async function install(
  call: Call,
  config: ElastosConfig,
  built: BuiltCapsule[],
  say: Say,
  rules: ShellRules,
): Promise<string[]> {
  const installed = new Map(
    ((await call('capsule.list')) as Array<{ name: string; id: string }>).map((c) => [c.name, c.id]),
  );
  const fresh: string[] = [];
  for (const b of built) {
    const id = decodePackage(new Uint8Array(readFileSync(b.file))).id;
    const have = installed.get(b.name);
    if (have === id) continue;
    if (have !== undefined) {
      // Dev only: same version, new code. A box installs only newer versions (spec §7.1).
      await call('capsule.stop', { name: b.name }).catch(() => undefined);
      await call('capsule.remove', { name: b.name });
      say(`${b.name}: code changed without a version bump: removed and reinstalled (its data is reset)`);
    }
    await call('capsule.install', { path: b.file }); // the story tells it, from the trail
    seed(config, b.name, say, rules);
    fresh.push(b.name);
  }
  return fresh;
}

/**
 * Trusts the dev publisher key (made on first use in `devDir`). Before the runtime is provisioned:
 * the trust store is measured at boot, so changing it later means resealing the runtime key.
 * A new entry is an audited trust change (an offline record, the runtime being stopped).
 */
export async function trustDevPublisher(config: ElastosConfig, devDir: string): Promise<string> {
  const key = await devPublisherKey(join(devDir, 'publisher.key'));
  const entry = publicKeyEntry('elastos-dev', Buffer.from(key.publicKey).toString('hex'));
  if (loadTrustStore(config.trustDir).keys.get(entry.keyId)?.name === entry.name) return key.keyId;
  const store = await Store.open(join(config.stateDir, 'store'));
  try {
    await withOfflineAudit(store, (audit) => trustKey(config.trustDir, entry, audit, 'npm-start'));
  } finally {
    await store.close();
  }
  return key.keyId;
}

/**
 * Installs what changed and starts what is not running, in start order. `rules` are the shell's
 * on its first install (the story's by default; tests vary them, e.g. to make a request an "ask").
 */
export async function setUpStory(
  call: Call,
  config: ElastosConfig,
  devDir: string,
  say: Say,
  rules: ShellRules = STORY_RULES,
): Promise<void> {
  const built = await buildFirstParty(join(devDir, 'capsules'), join(devDir, 'publisher.key'));
  await install(call, config, built, say, rules);
  const rows = (await call('capsule.status')) as Array<{ name: string; state: string }>;
  for (const b of built) {
    const row = rows.find((r) => r.name === b.name);
    if (!row || ['running', 'starting', 'backoff'].includes(row.state)) continue;
    // Started meanwhile by the runtime itself (a restart): that is what was wanted.
    await call('capsule.start', { name: b.name }).catch((err: unknown) => {
      if (!hasCode(err, 'E_CAPSULE_EXISTS')) throw err;
    });
  }
}

/**
 * Prints story lines for the audit records of this boot of the runtime, then each new one as the
 * runtime commits it (an `audit.tail` subscription, no polling) until `stop()`.
 */
export function followStory(socket: string, say: Say): { stop: () => void; done: Promise<void> } {
  let client: AdminClient | undefined;
  let stopped = false;
  const done = (async () => {
    client = await AdminClient.connect(socket);
    if (stopped) return client.close();
    // Start at this boot of the runtime (its `boot.*` records), so that capsules started at boot are told too.
    const recent = (await client.call('audit.tail', { limit: 1000 })) as TrailRecord[];
    const onEvent = (r: unknown) => {
      const line = storyLine(r as TrailRecord);
      if (line) say(line);
    };
    recent
      .slice(
        Math.max(
          recent.findLastIndex((r) => r.type.startsWith('boot.')),
          0,
        ),
      )
      .forEach(onEvent);
    const after = recent.at(-1)?.seq;
    await client.call('audit.tail', { ...(after === undefined ? {} : { after }), follow: true }, { onEvent });
  })().catch((err: unknown) => {
    if (!stopped) throw err;
  });
  return {
    stop: () => {
      stopped = true;
      client?.close();
    },
    done,
  };
}
