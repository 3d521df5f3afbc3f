/**
 * The scenarios of `npm run bench`, each a setup (accounts, conversations:
 * never timed) and a run that returns named figures. A run that loses or
 * duplicates a message throws: the benchmark fails rather than report it.
 */
import { makeUsers, type BenchUser } from "../accounts.js";
import { costFigures, startCost } from "../cost.js";
import type { Target } from "../targets.js";
import { connectsParley, connectsRelay } from "./connects.js";
import { floodPhase, type FloodPhase, type FloodWorld } from "./flood.js";
import { runFlow, type FlowResult } from "./flow.js";
import { idleParley, idleRelay } from "./idle.js";
import { createGroup, openPairs, parleyGroup, parleyPairs, relayGroup, relayPairs, type Links } from "./links.js";
import { idgenInProcess, idgenOverGrpc, presenceHeartbeats } from "./services.js";
import { startupParley, startupRelay } from "./startup.js";
import { fillForSearch, searchParley } from "./search.js";
import { syncParley } from "./sync.js";

export interface Sizes {
  pairs: number;
  messages: number;
  window: number;
  rate: number;
  seconds: number;
  quietRate: number;
  quietSeconds: number;
  groupSize: number;
  groupRate: number;
  groupSeconds: number;
  groupPosts: number;
  groupWindow: number;
  idle: number;
  connects: number;
  sync: number;
  search: number;
  searches: number;
  floodSockets: number;
  floodWindow: number;
  floodSeconds: number;
  probeRate: number;
}

export type Figures = Record<string, number>;

/** One scenario: `parley` runs against Parley, `relay` (when the relay has a counterpart) against the relay. */
export interface Scenario {
  name: string;
  /** What the relay's figures divide: the headline metric for the ratio column. */
  headline: string;
  /** Runs only against embedded Parley (the reason, printed when --distributed skips it). */
  embeddedOnly?: string;
  setup(parley: Target): Promise<void>;
  parley(parley: Target, run: number): Promise<Figures>;
  relay?(relay: Target, run: number): Promise<Figures>;
}

function checked(name: string, r: FlowResult): FlowResult {
  if (r.lost > 0 || r.duplicated > 0) throw new Error(`${name}: ${r.lost} deliveries lost and ${r.duplicated} duplicated of ${r.expected}`);
  return r;
}

/**
 * One flow run and what it cost: the target's CPU is sampled right before
 * the first send and right after the last delivery (connecting the links
 * and closing them fall outside), and divided by the deliveries.
 */
async function flow(name: string, target: Target, open: () => Promise<Links>, options: Parameters<typeof runFlow>[1]): Promise<Figures> {
  const { links, close } = await open();
  try {
    const cost = startCost(target);
    const r = await runFlow(links, options);
    const spent = cost();
    return { ...flowFigures(checked(name, r)), ...costFigures(spent, r.delivered, "delivery") };
  } finally {
    await close();
  }
}

const flowFigures = (r: FlowResult): Figures => ({
  "per second": r.perSecond,
  "deliver p50 ms": r.deliver.p50,
  "deliver p95 ms": r.deliver.p95,
  "deliver p99 ms": r.deliver.p99,
  "deliver max ms": r.deliver.max,
  ...(r.ack ? { "ack p50 ms": r.ack.p50, "ack p99 ms": r.ack.p99 } : {}),
});

const floodFigures = (quiet: FloodPhase, one: FloodPhase, many: FloodPhase): Figures => ({
  "quiet p50 ms": quiet.probe.p50,
  "quiet p99 ms": quiet.probe.p99,
  "one socket p50 ms": one.probe.p50,
  "one socket p99 ms": one.probe.p99,
  "one socket probe lost": one.probeLost,
  "one socket flood delivered/s": one.floodDeliveredPerSecond,
  "many sockets p50 ms": many.probe.p50,
  "many sockets p99 ms": many.probe.p99,
  "many sockets probe lost": many.probeLost,
  "many sockets flood delivered/s": many.floodDeliveredPerSecond,
  "many sockets open": many.floodSockets,
});

/**
 * The frame-rate limits `npm start` has (the benchmark lifts them for its
 * load generator): an empty value means the default.
 */
const PRODUCTION_FRAME_LIMITS = { GATEWAY_FRAMES_PER_SECOND: "", GATEWAY_FRAME_BURST: "" };

export function scenarios(s: Sizes, prefix: string): Scenario[] {
  let pairs: [BenchUser, BenchUser][] = [];
  let conversations: bigint[] = [];
  let owner: BenchUser;
  let members: BenchUser[] = [];
  let groupId = 0n;
  // Device tokens for the idle and connects scenarios, made once and shared.
  const deviceTokens: string[] = [];
  const tokensFor = async (parley: Target, count: number) => {
    if (deviceTokens.length < count) {
      // Within the caps on devices per account and sockets per user (ACCOUNT_MAX_DEVICES, GATEWAY_MAX_SOCKETS_PER_USER).
      const perUser = 10;
      const users = await makeUsers(parley.url, `${prefix}_i${deviceTokens.length}`, Math.ceil((count - deviceTokens.length) / perUser), perUser, 8);
      deviceTokens.push(...users.flatMap((u) => u.tokens));
    }
    return deviceTokens.slice(0, count);
  };
  let idleTokens: string[] = [];
  let connectTokens: string[] = [];
  let syncPair: [BenchUser, BenchUser];
  let syncConversation = 0n;
  let searchReader: BenchUser | undefined;
  const setUpPairs = async (parley: Target) => {
    if (pairs.length > 0) return;
    const users = await makeUsers(parley.url, `${prefix}_p`, s.pairs * 2);
    pairs = Array.from({ length: s.pairs }, (_, i) => [users[2 * i]!, users[2 * i + 1]!]);
    conversations = await openPairs(parley.url, pairs);
  };
  const setUpGroup = async (parley: Target) => {
    if (members.length > 0) return;
    const [first, ...rest] = await makeUsers(parley.url, `${prefix}_g`, s.groupSize);
    owner = first!;
    members = rest;
    groupId = await createGroup(parley.url, owner, members);
  };
  let floodWorld: FloodWorld | undefined;
  const setUpFlood = async (parley: Target) => {
    if (floodWorld) return;
    const [probeSender, probeReceiver, victim] = await makeUsers(parley.url, `${prefix}_fp`, 3);
    // The flooder spreads its sockets over several devices, as one person with a script and a few log-ins would.
    const [flooder] = await makeUsers(parley.url, `${prefix}_ff`, 1, Math.min(5, s.floodSockets));
    const [probeConversation, floodConversation] = await openPairs(parley.url, [
      [probeSender!, probeReceiver!],
      [flooder!, victim!],
    ]);
    floodWorld = {
      probeSender: probeSender!,
      probeReceiver: probeReceiver!,
      victim: victim!,
      flooder: flooder!,
      probeConversation: probeConversation!,
      floodConversation: floodConversation!,
    };
  };
  const floodRun = async (url: string, tag: string) => {
    const sizes = { probeRate: s.probeRate, seconds: s.floodSeconds, window: s.floodWindow, sockets: s.floodSockets };
    await floodPhase(url, floodWorld!, { ...sizes, seconds: 2 }, 0, `${tag}w`); // warm-up, after a restart
    const quiet = await floodPhase(url, floodWorld!, sizes, 0, `${tag}q`);
    const one = await floodPhase(url, floodWorld!, sizes, 1, `${tag}o`);
    const many = await floodPhase(url, floodWorld!, sizes, s.floodSockets, `${tag}m`);
    return floodFigures(quiet, one, many);
  };
  const tag = (name: string, run: number) => `${name}${run}`;
  return [
    {
      name: "pairs-max",
      headline: "per second",
      setup: setUpPairs,
      parley: async (p, run) => flow("pairs-max", p, () => parleyPairs(p.url, pairs, conversations, tag("m", run)), { messages: s.messages, window: s.window }),
      relay: async (r) => flow("pairs-max relay", r, () => relayPairs(r.url, s.pairs), { messages: s.messages, window: s.window }),
    },
    {
      name: "pairs-rate",
      headline: "deliver p99 ms",
      setup: setUpPairs,
      parley: async (p, run) =>
        flow("pairs-rate", p, () => parleyPairs(p.url, pairs, conversations, tag("r", run)), { messages: 0, rate: s.rate, seconds: s.seconds }),
      relay: async (r) => flow("pairs-rate relay", r, () => relayPairs(r.url, s.pairs), { messages: 0, rate: s.rate, seconds: s.seconds }),
    },
    {
      // A quiet load: the latency a message sees when nothing queues ahead of it.
      name: "pairs-quiet",
      headline: "deliver p50 ms",
      setup: setUpPairs,
      parley: async (p, run) =>
        flow("pairs-quiet", p, () => parleyPairs(p.url, pairs, conversations, tag("q", run)), { messages: 0, rate: s.quietRate, seconds: s.quietSeconds }),
      relay: async (r) => flow("pairs-quiet relay", r, () => relayPairs(r.url, s.pairs), { messages: 0, rate: s.quietRate, seconds: s.quietSeconds }),
    },
    {
      name: "group",
      headline: "deliver p99 ms",
      setup: setUpGroup,
      parley: async (p, run) =>
        flow("group", p, () => parleyGroup(p.url, owner, members, groupId, tag("g", run)), { messages: 0, rate: s.groupRate, seconds: s.groupSeconds }),
      relay: async (r) => flow("group relay", r, () => relayGroup(r.url, s.groupSize - 1), { messages: 0, rate: s.groupRate, seconds: s.groupSeconds }),
    },
    {
      name: "group-max",
      headline: "per second",
      setup: setUpGroup,
      parley: async (p, run) =>
        flow("group-max", p, () => parleyGroup(p.url, owner, members, groupId, tag("x", run)), { messages: s.groupPosts, window: s.groupWindow }),
      relay: async (r) => flow("group-max relay", r, () => relayGroup(r.url, s.groupSize - 1), { messages: s.groupPosts, window: s.groupWindow }),
    },
    {
      name: "sync",
      headline: "seconds",
      async setup(parley) {
        if (syncConversation !== 0n) return;
        const [a, b] = await makeUsers(parley.url, `${prefix}_s`, 2);
        syncPair = [a!, b!];
        syncConversation = (await openPairs(parley.url, [syncPair]))[0]!;
      },
      parley: async (p, run) => {
        const r = await syncParley(p.url, syncPair[0], syncPair[1], syncConversation, s.sync, tag("s", run));
        return { seconds: r.seconds, "messages per second": r.messagesPerSecond };
      },
    },
    {
      name: "search",
      headline: "p50 ms",
      async setup(parley) {
        if (searchReader !== undefined) return;
        const [a, b] = await makeUsers(parley.url, `${prefix}_f`, 2);
        const conversation = (await openPairs(parley.url, [[a!, b!]]))[0]!;
        await fillForSearch(parley.url, a!, conversation, s.search, `${prefix}f`);
        searchReader = b!;
      },
      parley: async (p) => {
        const r = await searchParley(p.url, searchReader!, s.searches);
        return {
          "p50 ms": r.p50Ms,
          "p99 ms": r.p99Ms,
          "common word p50 ms": r.commonP50Ms,
          "rare word p50 ms": r.rareP50Ms,
          "two words p50 ms": r.twoWordsP50Ms,
          "searches per second": r.searchesPerSecond,
          "messages stored": s.search,
        };
      },
    },
    {
      name: "idle",
      headline: "KiB per connection",
      async setup(parley) {
        idleTokens = await tokensFor(parley, s.idle);
      },
      parley: async (p) => {
        const r = await idleParley(p, idleTokens);
        return { "KiB per connection": r.kibPerConnection, "connects per second": r.connectsPerSecond };
      },
      relay: async (r) => {
        const x = await idleRelay(r, s.idle);
        return { "KiB per connection": x.kibPerConnection, "connects per second": x.connectsPerSecond };
      },
    },
    {
      name: "connects",
      headline: "connects per second",
      async setup(parley) {
        connectTokens = await tokensFor(parley, s.connects);
      },
      parley: async (p) => connectsParley(p, connectTokens),
      relay: async (r) => connectsRelay(r, s.connects),
    },
    {
      name: "startup",
      headline: "ms to healthy",
      embeddedOnly: "it starts embedded Parley (npm start) on a fresh data folder; the distributed services have no single start to time",
      setup: async () => {},
      parley: async () => startupParley(),
      relay: async () => startupRelay(),
    },
    {
      // The limits npm start has: what an attacker meets on a default deployment.
      name: "flood",
      headline: "one socket p99 ms",
      setup: setUpFlood,
      parley: async (p, run) => {
        await p.restart(PRODUCTION_FRAME_LIMITS);
        try {
          return await floodRun(p.url, tag("f", run));
        } finally {
          await p.restart();
        }
      },
    },
    {
      // No frame-rate limit at all: only the scheduling keeps the probe's latency.
      name: "flood-unlimited",
      headline: "one socket p99 ms",
      setup: setUpFlood,
      parley: async (p, run) => floodRun(p.url, tag("u", run)),
    },
    {
      name: "presence",
      headline: "heartbeats per second",
      setup: async () => {},
      parley: async () => ({ "heartbeats per second": (await presenceHeartbeats()).perSecond }),
    },
    {
      name: "idgen",
      headline: "in-process ids per second",
      setup: async () => {},
      parley: async () => ({ "in-process ids per second": (await idgenInProcess()).perSecond, "grpc ids per second": (await idgenOverGrpc()).perSecond }),
    },
  ];
}
