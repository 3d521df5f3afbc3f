import { ChatModerationService, ChatService } from "@parley/contracts/parley/chat/v1/chat";
import { accessPolicy } from "@parley/runtime";

/**
 * Only a gateway acts for users on chat: every unary method needs the acting
 * user it verified, and the multiplexed Stream carries each command's user,
 * which is why nobody else may open one. Moderation is for operators alone
 * (no acting user; the gateway never serves it).
 */
export const chatAccess = accessPolicy(
  [ChatService.typeName, { audience: "chat", methods: { Stream: { roles: ["gateway"] } }, otherwise: { roles: ["gateway"], actingUser: "required" } }],
  [ChatModerationService.typeName, { audience: "chat", otherwise: { roles: ["operator"] } }],
);
