export { startPresence, type PresenceDeps, type RunningPresence } from "./wiring.js";
export { loadPresenceConfig, presenceEnv, type PresenceConfig } from "./config.js";
export { mapPresenceError } from "./errors.js";
export type { Clock, Timers } from "./ports.js";
export { presenceAccess } from "./access.js";
