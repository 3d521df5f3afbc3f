import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { accessPolicy } from "@parley/runtime";

/**
 * Senders are chat and the internal apps given an `app:<name>` key (the
 * brief's authenticated senders); reading notifications and handling dead
 * letters is for operators, and apps may follow their own sends.
 */
export const notifyAccess = accessPolicy([
  NotifyService.typeName,
  {
    audience: "notify",
    methods: {
      Send: { roles: ["chat", "app"] },
      SendBatch: { roles: ["chat", "app"] },
      // Whoever may send may take back what it sent (chat, when a message is deleted for everyone).
      Erase: { roles: ["chat", "app"] },
      GetNotification: { roles: ["operator", "app"] },
      ListUserNotifications: { roles: ["operator", "app"] },
      ListDeadLetters: { roles: ["operator"] },
      RetryDeadLetters: { roles: ["operator"] },
      TrackEvent: { roles: ["gateway", "app", "operator"] },
    },
  },
]);
