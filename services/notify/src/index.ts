export { startNotify, type NotifyDeps, type NotifyTuning, type RunningNotify } from "./wiring.js";
export { loadNotifyConfig, notifyEnv, type NotifyConfig } from "./config.js";
export { mapNotifyError } from "./errors.js";
export { configuredProviders } from "./adapters/providers/configured.js";
export { RecordingProvider, type RecordedSend } from "./adapters/providers/recording.js";
export type { Channel, Provider } from "./ports.js";
export { notifyAccess } from "./access.js";
