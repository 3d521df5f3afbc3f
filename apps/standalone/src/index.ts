export { startEmbedded, type EmbeddedConfig, type RunningParley } from "./wiring.js";
export { loadEmbeddedConfig } from "./config.js";
