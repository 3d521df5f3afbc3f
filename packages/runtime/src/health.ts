import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  type Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
  type HealthCheckResponse,
} from "@parley/contracts/grpc/health/v1/health";

export { ServingStatus };

/**
 * The statuses behind the standard grpc.health.v1.Health service. The empty
 * name stands for the whole server and is its readiness, the same as
 * /readyz: SERVING while every readiness check passes and the server is not
 * draining. Each registered service has its own status. Shutdown flips
 * everything to NOT_SERVING first, so load balancers stop sending work
 * before the server stops accepting it.
 */
export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  private readonly listeners = new Set<(service: string, status: ServingStatus) => void>();
  private draining = false;
  private failing: readonly string[] = [];

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const listener of this.listeners) listener(service, status);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Marks every service NOT_SERVING (at the start of a graceful shutdown), for good. */
  drain(): void {
    this.draining = true;
    for (const service of [...this.statuses.keys()]) this.set(service, ServingStatus.NOT_SERVING);
  }

  /** True once drain() was called. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Takes the readiness checks' verdict: the server ("") serves while none fails, unless it drains. */
  setFailing(checks: readonly string[]): void {
    this.failing = checks;
    if (!this.draining) this.set("", checks.length === 0 ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  /**
   * Why the server is not ready, in a few words for /readyz ("draining",
   * "database unreachable"); undefined when it is. Names only the failing
   * checks: the causes go to the log, not to whoever can reach the port.
   */
  notReady(): string | undefined {
    if (this.draining) return "draining";
    if (this.failing.length > 0) return this.failing.map((check) => `${check} unreachable`).join(", ");
    return undefined;
  }

  entries(): [string, ServingStatus][] {
    return [...this.statuses.entries()];
  }

  onChange(listener: (service: string, status: ServingStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function response(status: ServingStatus): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

export function healthService(health: HealthStatus): ServiceImpl<typeof Health> {
  return {
    check(req) {
      const status = health.get(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return response(status);
    },
    list() {
      return { statuses: Object.fromEntries(health.entries().map(([name, status]) => [name, response(status)])) };
    },
    async *watch(req, context) {
      // Subscribe before reading the current status, so a change in between is not lost.
      const queue: ServingStatus[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = health.onChange((service, status) => {
        if (service !== req.service) return;
        queue.push(status);
        wake?.();
      });
      // The abort wakes the wait below; racing each wait against one promise of the abort would leave a reaction on it per change.
      const onAbort = () => wake?.();
      context.signal.addEventListener("abort", onAbort, { once: true });
      try {
        let last = health.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        yield response(last);
        while (!context.signal.aborted) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          const next = queue.shift()!;
          if (next !== last) {
            last = next;
            yield response(next);
          }
        }
      } finally {
        unsubscribe();
        context.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
