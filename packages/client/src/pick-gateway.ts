/**
 * Asks discovery which gateway to connect to (DiscoveryService.PickGateway
 * on the public HTTP API, Connect JSON), before the first connect and before
 * every reconnect, so a client whose gateway died or drains lands on a live
 * one. Uses the platform's fetch (Node 18+ and browsers).
 */
export interface DiscoveryOptions {
  /**
   * The public HTTP API that serves PickGateway, such as "https://chat.example"
   * (any gateway serves it; usually one load-balanced name), or several,
   * tried in order until one answers (those on the host of a gateway to
   * avoid last: it is most likely down too).
   */
  url: string | string[];
  /** The client's zone, if it knows it: a gateway in the same zone is preferred. */
  zone?: string;
}

/**
 * The WebSocket URL discovery chose; throws when no URL can say (no live
 * gateway, network down). `avoidUrls`: gateways to choose only when no other
 * will do (see GatewayPicker).
 */
export async function pickGateway(discovery: DiscoveryOptions, timeoutMs: number, avoidUrls: readonly string[] = []): Promise<string> {
  return (await pickWithFallbacks(discovery, timeoutMs, avoidUrls)).url;
}

/** pickGateway, with the other gateways discovery names to fall back on. */
async function pickWithFallbacks(discovery: DiscoveryOptions, timeoutMs: number, avoidUrls: readonly string[]): Promise<Picked> {
  const given = typeof discovery.url === "string" ? [discovery.url] : discovery.url;
  // A gateway that just dropped us is the last one to ask where to go: after a crash its
  // address refuses, and asking it first costs every client of the dead gateway a round trip.
  const avoidHosts = new Set(avoidUrls.map(hostOf));
  const urls = [...given.filter((url) => !avoidHosts.has(hostOf(url))), ...given.filter((url) => avoidHosts.has(hostOf(url)))];
  let last: unknown = new Error("discovery has no url");
  for (const url of urls) {
    try {
      return await pickFrom(url, discovery.zone ?? "", avoidUrls, timeoutMs);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** The most gateways a client asks discovery to avoid (the server takes up to 8). */
const AVOID_MAX = 4;
/** How long the fallbacks of a pick are trusted; later, discovery is asked again. */
export const FALLBACK_TTL_MS = 300_000;

interface Picked {
  url: string;
  fallbackUrls: string[];
}

/**
 * Picks gateways for one client's reconnect loop, steering it away from the
 * ones it just lost: a gateway that dies stays registered until its lease
 * runs out (10 s by default), and without this discovery could send its
 * clients back to it, to fail again, for that long. The list is the last few
 * gateways whose connection ended or never opened, and is cleared once a
 * connection is welcomed.
 *
 * After a loss it first dials the fallbacks discovery named with its last
 * answer (for FALLBACK_TTL_MS), without asking again: the clients of a dead
 * gateway then cost discovery nothing and save a round trip each.
 */
export class GatewayPicker {
  private avoid: string[] = [];
  private last: string | undefined;
  private fallbacks: string[] = [];
  private fallbacksUntil = 0;

  constructor(
    private readonly discovery: DiscoveryOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async pick(timeoutMs: number): Promise<string> {
    const fallback = this.nextFallback();
    if (fallback !== undefined) {
      this.last = fallback;
      return fallback;
    }
    const picked = await pickWithFallbacks(this.discovery, timeoutMs, this.avoid);
    this.fallbacks = picked.fallbackUrls;
    this.fallbacksUntil = this.now() + FALLBACK_TTL_MS;
    this.last = picked.url;
    return picked.url;
  }

  /** The next fallback not to avoid, only after a loss and while the fallbacks are fresh. */
  private nextFallback(): string | undefined {
    if (this.avoid.length === 0 || this.now() > this.fallbacksUntil) return undefined;
    while (this.fallbacks.length > 0) {
      const url = this.fallbacks.shift()!;
      if (!this.avoid.includes(url)) return url;
    }
    return undefined;
  }

  /** The connection to the last gateway picked has ended (or never opened). */
  lost(): void {
    if (this.last === undefined) return;
    this.avoid = [this.last, ...this.avoid.filter((url) => url !== this.last)].slice(0, AVOID_MAX);
  }

  /** A connection was welcomed: every gateway is fair game again. */
  welcomed(): void {
    this.avoid = [];
  }
}

async function pickFrom(url: string, zone: string, avoidUrls: readonly string[], timeoutMs: number): Promise<Picked> {
  const base = url.replace(/^ws/, "http").replace(/\/+$/, "");
  const res = await fetch(`${base}/parley.discovery.v1.DiscoveryService/PickGateway`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(avoidUrls.length === 0 ? { zone } : { zone, avoidUrls }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json().catch(() => ({}))) as { url?: string; message?: string; fallbackUrls?: unknown };
  if (!res.ok || typeof body.url !== "string" || body.url === "")
    throw new Error(`PickGateway failed (HTTP ${res.status}): ${body.message ?? "no gateway url"}`);
  const fallbackUrls = Array.isArray(body.fallbackUrls) ? body.fallbackUrls.filter((u): u is string => typeof u === "string" && u !== "") : [];
  return { url: body.url, fallbackUrls };
}

/** host:port of an http(s) or ws(s) URL; the URL itself when it does not parse. */
function hostOf(url: string): string {
  try {
    return new URL(url.replace(/^ws/, "http")).host;
  } catch {
    return url;
  }
}
