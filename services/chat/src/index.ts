export { startChat, type ChatDeps, type RunningChat } from "./wiring.js";
export { Chat, type Actor } from "./domain/chat.js";
export { loadChatConfig, chatEnv, type ChatConfig } from "./config.js";
export { mapChatError } from "./errors.js";
export { LIMITS as CHAT_LIMITS } from "./domain/limits.js";
export { chatAccess } from "./access.js";
