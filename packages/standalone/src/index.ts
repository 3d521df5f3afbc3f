export { startEmbedded, type EmbeddedConfig, type RunningParley } from "./embedded.js";
