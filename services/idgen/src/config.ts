import { commonEnv, env, loadEnv, type LOG_LEVELS } from "@parley/runtime";
import { MAX_WORKER_ID } from "./snowflake.js";

export interface IdgenConfig {
  /** Must differ between running instances: two with one worker id can hand out the same ID. */
  readonly workerId: number;
  readonly maxClockBackwardMs: number;
  readonly host: string;
  readonly port: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly shutdownGraceMs: number;
}

/** Reads and checks the idgen process's variables; throws ConfigError listing every bad one. */
export function loadIdgenConfig(environment: NodeJS.ProcessEnv = process.env): IdgenConfig {
  const vars = loadEnv(
    {
      IDGEN_WORKER_ID: env.int(0, MAX_WORKER_ID, 0),
      // 200 ms covers the usual NTP step without stalling callers noticeably;
      // beyond 10 s a caller is better served by an error and a retry elsewhere.
      IDGEN_MAX_CLOCK_BACKWARD_MS: env.int(0, 10_000, 200),
      IDGEN_HOST: env.string("127.0.0.1"),
      IDGEN_PORT: env.port(7002),
      ...commonEnv,
    },
    environment,
  );
  return Object.freeze({
    workerId: vars.IDGEN_WORKER_ID,
    maxClockBackwardMs: vars.IDGEN_MAX_CLOCK_BACKWARD_MS,
    host: vars.IDGEN_HOST,
    port: vars.IDGEN_PORT,
    logLevel: vars.LOG_LEVEL,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
  });
}
