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
   * tried in order until one answers.
   */
  url: string | string[];
  /** The client's zone, if it knows it: a gateway in the same zone is preferred. */
  zone?: string;
}

/** The WebSocket URL discovery chose; throws when no URL can say (no live gateway, network down). */
export async function pickGateway(discovery: DiscoveryOptions, timeoutMs: number): Promise<string> {
  const urls = typeof discovery.url === "string" ? [discovery.url] : discovery.url;
  let last: unknown = new Error("discovery has no url");
  for (const url of urls) {
    try {
      return await pickFrom(url, discovery.zone ?? "", timeoutMs);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

async function pickFrom(url: string, zone: string, timeoutMs: number): Promise<string> {
  const base = url.replace(/^ws/, "http").replace(/\/+$/, "");
  const res = await fetch(`${base}/parley.discovery.v1.DiscoveryService/PickGateway`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ zone }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json().catch(() => ({}))) as { url?: string; message?: string };
  if (!res.ok || typeof body.url !== "string" || body.url === "")
    throw new Error(`PickGateway failed (HTTP ${res.status}): ${body.message ?? "no gateway url"}`);
  return body.url;
}
