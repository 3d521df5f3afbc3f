import type { ServiceImpl } from "@connectrpc/connect";
import type { ChatModerationService } from "@parley/contracts/parley/chat/v1/chat";
import { audited, type Logger } from "@parley/runtime";
import type { Chat } from "./domain/chat.js";
import { InvalidInput } from "./errors.js";

/** Longest reason an operator may give (it goes to the audit log only). */
const MAX_REASON_CHARS = 500;

/** ChatModerationService: operators' calls (the access policy lets only the operator role in), each audited (runtime's `audited`). */
export function chatModerationApi(chat: Chat, logger: Logger): ServiceImpl<typeof ChatModerationService> {
  return {
    moderateDeleteMessage: (req, context) =>
      audited(logger, context, "delete_message", { conversationId: req.conversationId, messageId: req.messageId, reason: req.reason }, async () => {
        if ([...req.reason].length > MAX_REASON_CHARS) throw new InvalidInput("reason", `must be at most ${MAX_REASON_CHARS} characters`);
        return chat.moderateDelete(req.conversationId, req.messageId);
      }),
  };
}
