import type { PushNotifier } from "../ports.js";

/** The notifier while notify is not configured: hand-offs go nowhere (the composition root says so once at start). */
export const disabledPushNotifier: PushNotifier = {
  newMessage(_, settled) {
    settled?.("ended");
  },
  async close() {},
};
