/**
 * Brokered invokes (runtime/spec/ipc.md §4), capsule -> runtime -> provider -> runtime -> capsule,
 * all real processes over fd 3 pipes: the token-checked path audited by the real AuditLog
 * (use count in the same synced batch), against a raw relay of the same frames with no token
 * and no audit plus one synced put (and, for reference, plus one AuditLog append of the same
 * record), measured in the same run and interleaved. Prints one JSON array of rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReqMessage } from '@elastos/protocol/ipc/messages';
import type { AuditLog } from '@elastos/runtime/audit/index';
import { DEFAULT_BROKER } from '@elastos/runtime/broker/broker';
import { Channel, type ChannelHandlers } from '@elastos/runtime/broker/channel';
import { spawnCapsule, startBroker, stopBroker, type TestCapsule } from '@elastos/runtime/broker/fixtures/harness';
import { ElastosError } from '@elastos/runtime/errors/index';
import type { Store } from '@elastos/runtime/store/index';

const CALLERS = 4;
const IN_FLIGHT = 64;
const ROUNDS = 3;
const SEQ_N = 150; // per latency round: short rounds, interleaved, so both paths see the same noise
const SEQ_ROUNDS = 10;
const PAR_N = 2500; // per caller

/** How the raw relay writes before it forwards: nothing, one synced put, or one AuditLog append. */
type RelayWrite = 'none' | 'put' | 'append';

/** The baseline: the same channels and frames, relayed with no token check and no audit. */
class RawRelay implements ChannelHandlers {
  readonly channels = new Map<string, Channel>();
  write: RelayWrite = 'none';
  private n = 0;
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}
  attach(c: TestCapsule): void {
    this.channels.set(c.id, new Channel(c.id, c.socket, this, { ...DEFAULT_BROKER, ratePerSec: 1e9, burst: 1e9 }));
  }
  async request(ch: Channel, msg: ReqMessage): Promise<unknown> {
    const target = this.channels.get(msg.provider as string);
    if (!target) throw new ElastosError('E_BROKER_NO_PROVIDER', 'no provider');
    if (this.write === 'put') await this.store.put('meta', 'relay', new Uint8Array([1]), { sync: true });
    if (this.write === 'append') {
      const value = new TextEncoder().encode(String(++this.n));
      const op = { type: 'put' as const, sublevel: this.store.ns('counters'), key: 'u/relay', value };
      const event = { actor: ch.actor, type: 'invoke', resource: msg.resource as string, action: 'read' };
      await this.audit.append({ ...event, tokenId: '0f'.repeat(16), decision: 'allow' }, [op]);
    }
    const call = { op: 'invoke', caller: ch.id, method: msg.method, resource: msg.resource, args: msg.args ?? null };
    Object.assign(call, { token: msg.token });
    return target.call(call, 30_000);
  }
  event(): void {}
  closed(): void {}
  throttled(): void {}
}

/** The audit floor: the same records and use-count ops appended with no IPC, at the same concurrency. */
async function auditFloor(t: Awaited<ReturnType<typeof startBroker>>, n: number): Promise<number> {
  const start = performance.now();
  const sub = t.store.ns('counters');
  let count = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, w) => {
      for (let i = 0; i < n / IN_FLIGHT; i++) {
        const value = new TextEncoder().encode(String(++count));
        const event = { actor: `capsule:app${w % CALLERS}`, type: 'invoke', resource: 'storage://photos/a.jpg' };
        await t.audit.append({ ...event, action: 'read', tokenId: '0f'.repeat(16), decision: 'allow' as const }, [
          { type: 'put', sublevel: sub, key: `u/bench${w % CALLERS}`, value },
        ]);
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'elastos-broker-bench-'));
  const t = await startBroker(dir, {}, false);
  const capsules: TestCapsule[] = [];
  const spawn = (id: string, name: string, attach: boolean) => {
    const c = spawnCapsule(attach ? t.broker : undefined, id, name);
    capsules.push(c);
    return c;
  };
  try {
    spawn('storage', 'provider', true);
    const callers = Array.from({ length: CALLERS }, (_, i) => spawn(`app${i}`, 'capsule', true));
    const relay = new RawRelay(t.store, t.audit);
    relay.attach(spawn('storage', 'provider', false));
    const rawCallers = Array.from({ length: CALLERS }, (_, i) => spawn(`raw${i}`, 'capsule', false));
    for (const c of rawCallers) relay.attach(c);

    const fields = await Promise.all(
      callers.map(async (c) => {
        const grant = { holder: c.id, audience: 'storage', resource: 'storage://photos/', action: 'read' };
        const token = await t.tokens.issue({ ...grant, ttlMs: 3600_000, maxUses: 1_000_000_000 });
        return {
          provider: 'storage',
          method: 'read',
          resource: 'storage://photos/a.jpg',
          args: { n: 1 },
          token: token.encoded,
        };
      }),
    );
    const rawFields = {
      provider: 'storage',
      method: 'read',
      resource: 'storage://photos/a.jpg',
      args: { n: 1 },
      token: fields[0]?.token,
    };
    const seq = async (c: TestCapsule, f: object, n: number) =>
      (await c.drive({ cmd: 'loop', fields: f, n, inFlight: 1 })) as number[];
    const par = async (cs: TestCapsule[], fs: object[], n: number) => {
      const start = performance.now();
      await Promise.all(cs.map((c, i) => c.drive({ cmd: 'loop', fields: fs[i], n, inFlight: IN_FLIGHT / CALLERS })));
      return (cs.length * n) / ((performance.now() - start) / 1000);
    };
    // Warm-up both paths (JIT, caches, the token verdict).
    await seq(callers[0] as TestCapsule, fields[0] as object, 300);
    await seq(rawCallers[0] as TestCapsule, rawFields, 300);

    const lat = { broker: [] as number[], raw: [] as number[], audited: [] as number[] };
    const tput = { broker: [] as number[], raw: [] as number[], floor: [] as number[] };
    for (let r = 0; r < SEQ_ROUNDS; r++) {
      relay.write = 'put';
      lat.raw.push(...(await seq(rawCallers[0] as TestCapsule, rawFields, SEQ_N)));
      lat.broker.push(...(await seq(callers[0] as TestCapsule, fields[0] as object, SEQ_N)));
      relay.write = 'append';
      lat.audited.push(...(await seq(rawCallers[0] as TestCapsule, rawFields, SEQ_N)));
    }
    relay.write = 'none';
    for (let r = 0; r < ROUNDS; r++) {
      tput.raw.push(
        await par(
          rawCallers,
          rawCallers.map(() => rawFields),
          PAR_N,
        ),
      );
      tput.broker.push(await par(callers, fields, PAR_N));
      tput.floor.push(await auditFloor(t, CALLERS * PAR_N));
    }
    // A well-behaved capsule's invoke latency while another hammers a denied invoke (a stolen
    // token: E_TOKEN_HOLDER each time), against the same with no flood, interleaved.
    const flooder = spawn('flooder', 'capsule', true);
    const quiet: number[] = [];
    const busy: number[] = [];
    for (let r = 0; r < SEQ_ROUNDS; r++) {
      quiet.push(...(await seq(callers[0] as TestCapsule, fields[0] as object, SEQ_N)));
      // Within the flood-stopping strikes (runtime/spec/ipc.md §5): a flood the throttle stops would measure nothing.
      const flood = flooder.drive({ cmd: 'loop', fields: fields[0], n: 1500, inFlight: 8, ignoreErrors: true });
      await new Promise((r) => setTimeout(r, 20));
      busy.push(...(await seq(callers[0] as TestCapsule, fields[0] as object, SEQ_N)));
      await Promise.race([flood, new Promise((r) => setTimeout(r, 10_000))]);
    }
    const l = median(lat.broker);
    const lb = median(lat.raw);
    const la = median(lat.audited);
    const v = median(tput.broker);
    const vb = median(tput.raw);
    const floor = median(tput.floor);
    process.stderr.write(
      `latency p90 us broker=${Math.round(p90(lat.broker))} raw+put=${Math.round(p90(lat.raw))} raw+append=${Math.round(p90(lat.audited))}\n`,
    );
    process.stderr.write(
      `throughput rounds /s broker=${tput.broker.map(Math.round)} raw=${tput.raw.map(Math.round)} audit-floor=${tput.floor.map(Math.round)}\n`,
    );
    const rows = [
      { name: 'broker.invoke.latency', value: l, unit: 'us', baseline: lb, ratio: l / lb, goal: 'ratio <= 1.25' },
      {
        name: 'broker.invoke.latency.vs-audit',
        value: l,
        unit: 'us',
        baseline: la,
        ratio: l / la,
        goal: 'near 1: the relay plus one AuditLog append (same record and use op) is the floor',
      },
      {
        name: 'broker.invoke.latency.under-flood',
        value: median(busy),
        unit: 'us',
        baseline: median(quiet),
        ratio: median(busy) / median(quiet),
        goal: 'ratio <= 1.5: another capsule hammering denied invokes barely slows this one',
      },
      {
        name: 'broker.invoke.throughput',
        value: v,
        unit: 'invokes/s',
        baseline: vb,
        ratio: v / vb,
        goal: '>= 20000/s',
      },
      {
        name: 'broker.invoke.throughput.vs-audit',
        value: v,
        unit: 'invokes/s',
        baseline: floor,
        ratio: v / floor,
        goal: 'near 1: little above the durable audit floor',
      },
    ];
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } finally {
    await stopBroker(t, capsules);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
