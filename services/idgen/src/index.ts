// What other packages (the standalone process, tests) use from the ID service.
export { createIdgenService, type IdgenDeps } from "./server.js";
export { startIdgen, type IdgenOptions } from "./wiring.js";
export {
  decodeId,
  encodeId,
  MAX_BATCH,
  MAX_WORKER_ID,
  PARLEY_EPOCH_MS,
  SnowflakeGenerator,
  type IdParts,
  type SnowflakeOptions,
} from "./domain/snowflake.js";
export { ClockMovedBackwards, InvalidCount, mapIdgenError, WorkerIdUnavailable } from "./errors.js";
export { loadIdgenConfig, type IdgenConfig } from "./config.js";
export { systemClock } from "./adapters/system-clock.js";
export type { Clock, WorkerIdSource } from "./ports.js";
export { idgenAccess } from "./access.js";
