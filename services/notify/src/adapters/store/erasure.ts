import { ERASED, type NewNotification } from "../../ports.js";

/**
 * A notification as both job stores keep it once erased (ERASED): what an
 * `accept` of an event id erased before it arrived stores in place of the
 * caller's. Their `erase` does the same to stored rows in SQL.
 */
export function erasedNotification(n: NewNotification): NewNotification {
  const { [ERASED.textParam]: _text, ...params } = n.params;
  return { ...n, params, content: { ...n.content, body: ERASED.body }, fingerprint: ERASED.fingerprint };
}
