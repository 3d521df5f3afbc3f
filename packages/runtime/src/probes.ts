import type { HealthStatus } from "./health.js";

/** What a probe needs of the Node response, HTTP/1.1 or HTTP/2. */
interface ProbeResponse {
  writeHead(statusCode: number, headers: Record<string, string>): unknown;
  end(text: string): unknown;
}

/**
 * The plain-HTTP probes every server answers, open to anyone who reaches
 * the port (they say nothing but which check fails):
 * - /livez: the process works. Answering at all proves the event loop
 *   runs; no dependency is checked, so an outage elsewhere never gets a
 *   healthy process restarted. It stays 200 while draining.
 * - /readyz: the process can serve. 200 while every readiness check passes
 *   and it is not draining; otherwise 503 and why ("not ready: database
 *   unreachable", "not ready: draining"). The health service's "" status
 *   says the same.
 * - /healthz: the old probe, kept for the scripts and tools that use it:
 *   200 unless draining, whatever the dependencies.
 * Returns false for any other path.
 */
export function answerProbe(path: string | undefined, health: HealthStatus, res: ProbeResponse): boolean {
  switch (path) {
    case "/livez":
      return reply(res, 200, "ok");
    case "/readyz": {
      const why = health.notReady();
      return why === undefined ? reply(res, 200, "ok") : reply(res, 503, `not ready: ${why}`);
    }
    case "/healthz":
      return health.isDraining ? reply(res, 503, "draining") : reply(res, 200, "ok");
    default:
      return false;
  }
}

function reply(res: ProbeResponse, status: number, text: string): true {
  // Probes poll: an answer must never be cached on the way.
  res.writeHead(status, { "content-type": "text/plain", "cache-control": "no-store" });
  res.end(`${text}\n`);
  return true;
}
