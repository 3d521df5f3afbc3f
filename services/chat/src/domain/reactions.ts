import { InvalidInput } from "../errors.js";
import type { DeliveryBus, MessageStore, ReactionOutcome, StoredMessage } from "../ports.js";
import type { Actor } from "./chat.js";
import { refusal, requireIds } from "./message-changes.js";

export interface ReactionsOptions {
  store: MessageStore;
  bus: DeliveryBus;
  now: () => Date;
}

/** The longest emoji accepted, in UTF-16 units: ZWJ families and tag flags fit with room to spare. */
const EMOJI_MAX_UNITS = 64;
const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });
/** Every code point is part of an emoji: pictographs, modifiers (skin tones), ZWJ, variation selectors, keycaps, flags, tags. */
const ONLY_EMOJI_PARTS = /^(?:\p{Extended_Pictographic}|\p{Emoji_Presentation}|\p{Emoji_Component}|\uFE0E|\uFE0F)+$/u;
/** At least one of them is a picture (a digit, "#" or a skin tone alone is an emoji component, not an emoji; a keycap "1️⃣" is). */
const A_PICTURE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u;

/** Refuses anything but one emoji: one grapheme cluster made of emoji code points only. */
export function checkEmoji(emoji: string): void {
  const rule = 'must be exactly one emoji (such as "👍" or "❤️")';
  if (emoji.length === 0) throw new InvalidInput("emoji", `is required: ${rule}`);
  if (emoji.length > EMOJI_MAX_UNITS) throw new InvalidInput("emoji", rule);
  let count = 0;
  for (const _ of graphemes.segment(emoji)) if (++count > 1) throw new InvalidInput("emoji", `${rule}, not ${describe(emoji)}`);
  if (!ONLY_EMOJI_PARTS.test(emoji) || !A_PICTURE.test(emoji)) throw new InvalidInput("emoji", `${rule}, not ${describe(emoji)}`);
}

const describe = (emoji: string) => (emoji.length <= 16 ? JSON.stringify(emoji) : `a text of ${emoji.length} UTF-16 units`);

/**
 * Reactions to messages, through the pipeline of edits: the store checks the
 * rules and the caps against the state it changes and writes the change with
 * an inbox entry per member in one transaction; only then the reply, and
 * the entries go on the bus to the members' connected devices (the actor's
 * other devices too). No push: a reaction is not news to wake a phone for.
 */
export class Reactions {
  constructor(private readonly o: ReactionsOptions) {}

  async react(actor: Actor, conversationId: bigint, messageId: bigint, emoji: string, remove: boolean): Promise<ReactionOutcome> {
    requireIds(conversationId, messageId);
    checkEmoji(emoji);
    const outcome = await this.o.store
      .react({ conversationId, messageId, userId: actor.userId, emoji, remove, at: this.o.now() })
      .catch(refusal(conversationId, messageId, "react", 0));
    for (const entry of outcome.entries) this.o.bus.publish(entry.userId, { kind: "entry", entry });
    return outcome;
  }

  /** The messages with their reactions as the viewer sees them (one store read; none for an empty page). */
  async withReactions(messages: StoredMessage[], viewerId: bigint): Promise<StoredMessage[]> {
    if (messages.length === 0) return messages;
    const counts = await this.o.store.reactionsOf(messages, viewerId);
    return messages.map((m) => {
      const reactions = counts.get(m.messageId);
      return reactions === undefined ? m : { ...m, reactions };
    });
  }
}
