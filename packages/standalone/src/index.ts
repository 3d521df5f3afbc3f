export { startEmbedded, type EmbeddedConfig, type RunningParley } from "./embedded.js";
export { loadEmbeddedConfig } from "./config.js";
