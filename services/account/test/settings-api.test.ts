import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { migrate } from "@parley/relational";
import { openTestDb } from "@parley/testkit";
import { SqlAccountStore } from "../src/adapters/sql-account-store.js";
import { accountMigrations } from "../src/adapters/migrations.js";
import { bearer, PASSWORD, rejects, startAccountHarness, type AccountHarness, type StoreKind } from "./harness.js";

for (const kind of ["sqlite", "postgres"] satisfies StoreKind[]) {
  describe(`account settings (${kind})`, () => {
    let h: AccountHarness;
    let auth: ReturnType<typeof bearer>;
    let userId: bigint;
    before(async () => {
      h = await startAccountHarness(kind);
      await h.api.signUp({ username: "sam", password: PASSWORD });
      const login = await h.api.logIn({ username: "sam", password: PASSWORD, deviceName: "phone" });
      auth = bearer(login.session!.accessToken);
      userId = login.profile!.userId;
    });
    after(async () => {
      await h?.close();
    });

    it("starts from the defaults and changes only the named fields", async () => {
      const initial = (await h.api.getSettings({}, auth)).settings!;
      assert.deepEqual([initial.pushEnabled, initial.showPreviews, initial.hidePresence, initial.emailEnabled], [true, true, false, false]);
      const updated = await h.api.updateSettings(
        { settings: { hidePresence: true, showPreviews: false, email: "sam@example.org" }, fields: ["hide_presence", "email"] },
        auth,
      );
      assert.equal(updated.settings!.hidePresence, true);
      assert.equal(updated.settings!.showPreviews, true, "an unnamed field is kept");
      assert.equal((await h.api.getSettings({}, auth)).settings!.email, "sam@example.org");
      const hidden = await h.internal.getPresenceVisibility({ userIds: [userId, 1n] });
      assert.deepEqual(hidden.hiddenUserIds, [userId]);
    });

    it("refuses unknown fields, bad contact points and channels without one", async () => {
      await rejects(h.api.updateSettings({ settings: {}, fields: ["volume"] }, auth), Code.InvalidArgument, /unknown setting "volume"/);
      await rejects(h.api.updateSettings({ settings: {}, fields: [] }, auth), Code.InvalidArgument, /fields/);
      await rejects(h.api.updateSettings({ settings: { phone: "12345" }, fields: ["phone"] }, auth), Code.InvalidArgument, /E.164/);
      await rejects(h.api.updateSettings({ settings: { email: "not-an-email" }, fields: ["email"] }, auth), Code.InvalidArgument, /email/);
      await rejects(h.api.updateSettings({ settings: { smsEnabled: true }, fields: ["sms_enabled"] }, auth), Code.InvalidArgument, /phone number/);
      await rejects(h.api.getSettings({}), Code.Unauthenticated);
    });

    describe("preview_length", () => {
      it("starts at 0, which leaves the length to notify's default", async () => {
        assert.equal((await h.api.getSettings({}, auth)).settings!.previewLength, 0);
        assert.equal((await h.internal.getNotificationTargets({ userId })).settings!.previewLength, 0);
      });

      it("round-trips through UpdateSettings, GetSettings and GetNotificationTargets", async () => {
        const updated = await h.api.updateSettings({ settings: { previewLength: 250 }, fields: ["preview_length"] }, auth);
        assert.equal(updated.settings!.previewLength, 250);
        assert.equal((await h.api.getSettings({}, auth)).settings!.previewLength, 250);
        assert.equal((await h.internal.getNotificationTargets({ userId })).settings!.previewLength, 250);
      });

      it("is kept when other fields change, and accepts the bounds 500 and 0", async () => {
        await h.api.updateSettings({ settings: { previewLength: 250 }, fields: ["preview_length"] }, auth);
        await h.api.updateSettings({ settings: { showPreviews: false }, fields: ["show_previews"] }, auth);
        assert.equal((await h.api.getSettings({}, auth)).settings!.previewLength, 250, "an unnamed preview_length (0 in the message) is kept");
        for (const bound of [500, 0]) {
          await h.api.updateSettings({ settings: { previewLength: bound }, fields: ["preview_length"] }, auth);
          assert.equal((await h.api.getSettings({}, auth)).settings!.previewLength, bound);
        }
      });

      it("refuses 501 and larger values with INVALID_ARGUMENT naming the field, changing nothing", async () => {
        await h.api.updateSettings({ settings: { previewLength: 120, hidePresence: true }, fields: ["preview_length", "hide_presence"] }, auth);
        for (const bad of [501, 1_000, 4_294_967_295]) {
          await rejects(
            h.api.updateSettings({ settings: { previewLength: bad, hidePresence: false }, fields: ["preview_length", "hide_presence"] }, auth),
            Code.InvalidArgument,
            /^preview_length must be a whole number from 0 to 500/,
          );
        }
        const kept = (await h.api.getSettings({}, auth)).settings!;
        assert.equal(kept.previewLength, 120);
        assert.equal(kept.hidePresence, true, "the refused update changed no other field either");
      });
    });

    describe("mute_mentions", () => {
      it("starts off, so a mention gets through a mute, and round-trips to notify's targets", async () => {
        assert.equal((await h.api.getSettings({}, auth)).settings!.muteMentions, false);
        assert.equal((await h.api.updateSettings({ settings: { muteMentions: true }, fields: ["mute_mentions"] }, auth)).settings!.muteMentions, true);
        assert.equal((await h.api.getSettings({}, auth)).settings!.muteMentions, true);
        assert.equal((await h.internal.getNotificationTargets({ userId })).settings!.muteMentions, true);
        await h.api.updateSettings({ settings: { showPreviews: true }, fields: ["show_previews"] }, auth);
        assert.equal((await h.api.getSettings({}, auth)).settings!.muteMentions, true, "an unnamed mute_mentions is kept");
        await h.api.updateSettings({ settings: { muteMentions: false }, fields: ["mute_mentions"] }, auth);
        assert.equal((await h.api.getSettings({}, auth)).settings!.muteMentions, false);
      });
    });
  });
}

// Postgres only: settings stored by a released Postgres schema. The SQLite schema has preview_length from its first version.
describe("account schema (postgres)", () => {
  it("gives settings stored before preview_length and mute_mentions existed their defaults (0, off)", async () => {
    const { db, cleanup } = await openTestDb({ component: "account", list: accountMigrations.slice(0, 2) }, "parley_account");
    try {
      const { rows } = await db.query<{ id: string }>("INSERT INTO users (username, display_name, password_hash) VALUES ('old', 'Old', 'x') RETURNING id");
      const id = rows[0]!.id;
      await db.query(
        `INSERT INTO user_settings (user_id, push_enabled, email_enabled, sms_enabled, show_previews, muted_conversation_ids, hide_presence, email, phone)
         VALUES ($1, true, false, false, false, '{}', false, '', '')`,
        [id],
      );
      assert.deepEqual(await migrate(db, "account", accountMigrations), [3, 4, 5, 6, 7]);
      const settings = await new SqlAccountStore(db).getSettings(BigInt(id));
      assert.deepEqual([settings.showPreviews, settings.previewLength, settings.muteMentions], [false, 0, false]);
    } finally {
      await cleanup();
    }
  });
});
