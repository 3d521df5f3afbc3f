import { createClient, type Transport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@parley/contracts/grpc/health/v1/health";
import { ConfigError } from "./config.js";
import type { Logger } from "./logger.js";

/** How often and how patiently a process checks its dependencies (READINESS_INTERVAL_MS, READINESS_TIMEOUT_MS). */
export interface ReadinessSettings {
  /** The pause between the end of one round of checks and the start of the next. */
  readonly intervalMs: number;
  /** A check that has not answered by then counts as failed. */
  readonly timeoutMs: number;
}

export function readinessSettings(vars: { READINESS_INTERVAL_MS: number; READINESS_TIMEOUT_MS: number }): ReadinessSettings {
  if (vars.READINESS_TIMEOUT_MS > vars.READINESS_INTERVAL_MS) {
    throw new ConfigError([`READINESS_TIMEOUT_MS: must be at most READINESS_INTERVAL_MS (got ${vars.READINESS_TIMEOUT_MS} and ${vars.READINESS_INTERVAL_MS})`]);
  }
  return Object.freeze({ intervalMs: vars.READINESS_INTERVAL_MS, timeoutMs: vars.READINESS_TIMEOUT_MS });
}

/**
 * Asks one dependency whether it answers: resolves (or returns) when it does,
 * throws or rejects when it does not. The signal aborts at the timeout.
 */
export type ReadinessProbe = (signal: AbortSignal) => unknown;

/**
 * A probe of another server: its health service must say `service` is
 * SERVING. Ask about a named service, not "", so a process is not made
 * unready by its upstream's own dependencies, only by the upstream being
 * unreachable or draining.
 */
export function upstreamProbe(transport: Transport, service: string): ReadinessProbe {
  const health = createClient(Health, transport);
  return async (signal) => {
    const { status } = await health.check({ service }, { signal });
    if (status !== ServingStatus.SERVING) throw new Error(`${service} answers ${ServingStatus[status]}`);
  };
}

interface Check {
  readonly probe: ReadinessProbe;
  /** The probe still running from an earlier round, if any. */
  running: Promise<unknown> | undefined;
  failed: boolean;
}

/**
 * The dependency checks behind a process's readiness (/readyz and the
 * health service's "" status). Each process's wiring registers the checks
 * that are real for it (its database, etcd, the gateway's upstreams); the
 * domain knows nothing of them. Checks run in the background, all at once,
 * every `intervalMs`, never per probe request, so a probe storm costs
 * nothing and a slow dependency never slows a probe. A check still running
 * from an earlier round is not started again (it counts as failed), so a
 * hung dependency holds at most one probe (one pooled connection) at a time.
 */
export class ReadinessChecks {
  readonly #checks = new Map<string, Check>();
  readonly #listeners = new Set<(failing: readonly string[]) => void>();
  #failing: readonly string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;

  constructor(
    private readonly settings: ReadinessSettings,
    private readonly logger: Logger,
  ) {}

  /** Adds a check named after its dependency ("database", "etcd", "chat"); it runs from the next round on. */
  register(name: string, probe: ReadinessProbe): void {
    if (this.#checks.has(name)) throw new Error(`a readiness check named ${name} is registered already`);
    this.#checks.set(name, { probe, running: undefined, failed: false });
  }

  /**
   * The names of the checks that failed in the last round, in the order
   * registered. Empty before the first round: a process starts only once it
   * has reached its dependencies.
   */
  get failing(): readonly string[] {
    return this.#failing;
  }

  /** Told the failing checks whenever they change. */
  onChange(listener: (failing: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs the first round now and the next ones every intervalMs after; later calls do nothing. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    void this.#loop();
  }

  /** Runs every check once and reports the result. */
  async runRound(): Promise<void> {
    const names = [...this.#checks.keys()];
    const results = await Promise.all(names.map((name) => this.#run(name, this.#checks.get(name)!)));
    if (this.#closed) return;
    const failing = names.filter((_, i) => !results[i]);
    if (failing.join() === this.#failing.join()) return;
    this.#failing = failing;
    for (const listener of this.#listeners) listener(failing);
  }

  /** Stops the rounds (at shutdown, before the dependencies close, so their closing is not reported as an outage). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  async #loop(): Promise<void> {
    await this.runRound();
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#loop(), this.settings.intervalMs);
    this.#timer.unref();
  }

  /** True when the check passed; logs each change either way. */
  async #run(name: string, check: Check): Promise<boolean> {
    const reason = await this.#attempt(check);
    if (this.#closed) return reason === undefined;
    if (reason !== undefined && !check.failed) this.logger.warn({ check: name, reason }, "readiness check failing: not ready");
    if (reason === undefined && check.failed) this.logger.info({ check: name }, "readiness check passing again");
    check.failed = reason !== undefined;
    return !check.failed;
  }

  /** Undefined when the probe answered in time, else why not. */
  async #attempt(check: Check): Promise<string | undefined> {
    if (check.running !== undefined) return "the previous check has not answered yet";
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve(`no answer within ${this.settings.timeoutMs} ms`);
      }, this.settings.timeoutMs);
    });
    const running = (async () => check.probe(abort.signal))();
    check.running = running;
    const done = () => {
      check.running = undefined;
    };
    void running.then(done, done);
    const answered = running.then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    try {
      return await Promise.race([answered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
