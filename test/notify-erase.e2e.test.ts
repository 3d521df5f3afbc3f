import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { ChatModerationService } from "@parley/contracts/parley/chat/v1/chat";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { freePorts } from "@parley/testkit";
import pg from "pg";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { deletionErasesNotify, type NotifyCopy } from "./support/erase-scenario.js";
import { TlsMesh } from "./support/tls-mesh.js";
import { embeddedWorld, httpWorld } from "./support/worlds.js";

const SCENARIO =
  "a message deleted for everyone, by its sender or an operator, loses its text in notify's stored notification, and Erase refuses bad input with INVALID_ARGUMENT";

describe("deleted messages erased from notify (embedded mode, npm start's code path)", () => {
  let p: EmbeddedParley;
  before(async () => {
    const [port] = await freePorts(1);
    p = await startParley({ INTERNAL_PORT: String(port) });
  });
  after(() => p?.close());

  it(SCENARIO, () => {
    // Notify's store, through the running notify's own reads.
    const stored = async (userId: bigint): Promise<NotifyCopy[]> =>
      (await p.parley.notify.notifications.listForUser(userId, 20)).map(({ notification: n, deliveries }) => ({
        eventId: n.eventId,
        params: n.params,
        content: n.content,
        deliveries: deliveries.map((d) => ({ state: d.state, lastError: d.lastError })),
      }));
    return deletionErasesNotify(embeddedWorld(p), "er_emb", stored, {
      notify: createClient(NotifyService, p.internalAs("chat", "notify")),
      operator: createClient(ChatModerationService, p.internalAs("operator:test", "chat")),
    });
  });
});

describe("deleted messages erased from notify (distributed mode: each service its own process, notify on Postgres)", () => {
  let m: TlsMesh;
  let db: pg.Client;
  before(async () => {
    m = await TlsMesh.start();
    db = new pg.Client({ connectionString: m.database.url });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await m?.close();
  });

  it(SCENARIO, () => {
    // Notify's tables, read directly: what it keeps on disk.
    const stored = async (userId: bigint): Promise<NotifyCopy[]> => {
      const { rows } = await db.query<{ id: string; event_id: string; params: Record<string, string>; content: NotifyCopy["content"] }>(
        "SELECT id::text, event_id, params, content FROM notifications WHERE user_id = $1 ORDER BY id",
        [userId.toString()],
      );
      const deliveries = await db.query<{ notification_id: string; state: string; last_error: string }>(
        "SELECT notification_id::text, state, last_error FROM deliveries WHERE notification_id = ANY($1::bigint[]) ORDER BY id",
        [rows.map((r) => r.id)],
      );
      return rows.map((r) => ({
        eventId: r.event_id,
        params: r.params,
        content: r.content,
        deliveries: deliveries.rows.filter((d) => d.notification_id === r.id).map((d) => ({ state: d.state, lastError: d.last_error })),
      }));
    };
    return deletionErasesNotify(
      httpWorld(() => m.gateway.url),
      "er_dist",
      stored,
      {
        notify: m.clientAs(NotifyService, "chat", m.notify, "notify"),
        operator: m.clientAs(ChatModerationService, "operator:test", m.chat, "chat"),
      },
    );
  });
});
