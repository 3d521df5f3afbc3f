import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { sampleSum, sampleValue, until, type Exposition } from "@parley/testkit";
import { parse as parseYaml } from "yaml";
import { callApi } from "./support/http-api.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { metricNamesIn, namingProblems, sampleNames, scrape } from "./support/metrics.js";
import { connectDevice, type Device } from "./support/sdk.js";

const DASHBOARD = new URL("../helm/parley/files/grafana-dashboard.json", import.meta.url);
const RULES = new URL("../helm/parley/files/prometheus-rules.yaml", import.meta.url);

/** Moves of the samples between two scrapes. */
const delta = (before: Exposition, after: Exposition, name: string, labels: Record<string, string> = {}) =>
  sampleSum(after, name, labels) - sampleSum(before, name, labels);

/**
 * /metrics of the whole of Parley in one process (npm start's code path):
 * values that move with real traffic from SDK clients, the naming rules over
 * every family, and the dashboard and alert rules against what is exposed.
 */
describe("metrics (embedded, SDK clients)", () => {
  let p: EmbeddedParley;
  const devices: Device[] = [];

  before(async () => {
    p = await startParley();
  });
  after(async () => {
    for (const d of devices) await d.client.close();
    await p.close();
  });

  describe("values", () => {
    it("count sends, stores, frames, acks, deliveries live and pushed, syncs and connections as they happen", async () => {
      const alice = await p.user("m_alice");
      const bob = await p.user("m_bob");
      const carol = await p.user("m_carol"); // never connects: her messages are pushed
      const pushToken = await callApi(p.url, "SetPushToken", { platform: "PUSH_PLATFORM_FCM", token: "fcm-m-carol" }, carol.token);
      assert.equal(pushToken.status, 200, JSON.stringify(pushToken.body));
      const start = await scrape(p.url);

      const sender = await connectDevice(p.url, alice.token, { format: "proto" });
      const reader = await connectDevice(p.url, bob.token, { format: "json" });
      devices.push(sender, reader);
      const toBob = await sender.client.openDirect(bob.userId);
      const toCarol = await sender.client.openDirect(carol.userId);
      for (const text of ["one", "two", "three"]) await sender.client.send(toBob.conversationId, text);
      await sender.client.send(toCarol.conversationId, "are you there?");
      await reader.received(3);
      await reader.client.sync();
      const open = await scrape(p.url);
      assert.equal(sampleValue(open, "parley_gateway_connections"), 2, "both devices open on the one gateway");

      const end = await until(async () => {
        const now = await scrape(p.url);
        const pushed = delta(start, now, "parley_notify_attempts_total", { channel: "fcm", outcome: "sent" }) >= 1;
        return pushed && delta(start, now, "parley_chat_deliveries_total", { path: "live" }) >= 7 ? now : undefined;
      }, "carol's push sent and every entry delivered");
      assert.equal(delta(start, end, "parley_chat_messages_stored_total"), 4, "messages stored == messages sent");
      assert.equal(delta(start, end, "parley_chat_store_append_batch_messages_sum"), 4, "every send went through one store batch");
      const batches = delta(start, end, "parley_chat_store_append_duration_seconds_count");
      assert.ok(batches >= 1 && batches <= 4, `store batches timed: ${batches}`);
      assert.equal(delta(start, end, "parley_gateway_frames_received_total", { kind: "send", format: "proto" }), 4);
      assert.equal(delta(start, end, "parley_gateway_frames_sent_total", { kind: "send", format: "proto" }), 4, "one ack per send");
      assert.equal(delta(start, end, "parley_gateway_send_ack_duration_seconds_count"), 4, "every ack timed");
      assert.ok(delta(start, end, "parley_gateway_send_ack_duration_seconds_sum") > 0);
      assert.ok(delta(start, end, "parley_gateway_frames_sent_total", { kind: "entry", format: "json" }) >= 3, "bob's entries, in JSON");
      assert.ok(delta(start, end, "parley_gateway_frames_sent_total", { kind: "entry", format: "proto" }) >= 4, "alice's own entries, in binary");
      assert.ok(delta(start, end, "parley_chat_deliveries_total", { path: "live" }) >= 7, "bob's 3 entries and alice's 4");
      assert.equal(delta(start, end, "parley_chat_deliveries_total", { path: "push" }), 1, "carol's one message");
      assert.ok(delta(start, end, "parley_chat_sync_entries_count") >= 1, "bob's sync");
      assert.ok(delta(start, end, "parley_chat_delivery_bus_lag_seconds_count") >= 1, "one event in 8 timed on the bus: 8 entries went through it");
      assert.equal(delta(start, end, "parley_gateway_connects_total", { outcome: "accepted" }), 2);

      for (const d of devices.splice(0)) await d.client.close();
      const closed = await until(async () => {
        const now = await scrape(p.url);
        return sampleValue(now, "parley_gateway_connections") === 0 ? now : undefined;
      }, "the connections gauge back at 0");
      assert.equal(delta(start, closed, "parley_gateway_disconnects_total", { reason: "client_closed" }), 2);
    });

    it("labels RPC status codes in snake_case, ok and errors alike", async () => {
      await p.user("m_dave");
      const refused = await callApi(p.url, "LogIn", { username: "m_dave", password: "not the password", deviceName: "phone" });
      assert.notEqual(refused.status, 200);
      const now = await scrape(p.url);
      const login = { service: "parley.account.v1.AccountService", method: "LogIn" };
      assert.ok((sampleValue(now, "parley_rpc_handled_total", { ...login, code: "ok" }) ?? 0) >= 1);
      assert.ok((sampleValue(now, "parley_rpc_handled_total", { ...login, code: "unauthenticated" }) ?? 0) >= 1);
    });
  });

  describe("naming", () => {
    it("holds every exposed family to the naming rules: counters and only counters named _total, units, snake_case codes, bounded labels", async () => {
      const exposition = await scrape(p.url);
      const problems = [...exposition.values()].flatMap(namingProblems);
      assert.deepEqual(problems, []);
      assert.ok([...exposition.keys()].filter((name) => name.startsWith("parley_")).length >= 20, "the parley families are there to be checked");
    });

    it("the rules catch a gauge named _total, a counter without it, a histogram without a unit and a code not in snake_case", () => {
      const family = (name: string, type: "counter" | "gauge" | "histogram", labels: Record<string, string> = {}) => ({
        name,
        type,
        help: "Something, in seconds",
        samples: [{ name, labels, value: 1 }],
      });
      assert.equal(namingProblems(family("parley_open_total", "gauge")).length, 1);
      assert.equal(namingProblems(family("parley_done", "counter")).length, 1);
      assert.equal(namingProblems(family("parley_wait", "histogram")).length, 1);
      assert.equal(namingProblems(family("parley_calls_total", "counter", { code: "NotFound" })).length, 2, "not a code, not snake_case");
      assert.equal(namingProblems(family("parley_sends_total", "counter", { user: "1234567890123" })).length, 1, "an id as a label value");
      assert.deepEqual(namingProblems(family("parley_calls_total", "counter", { code: "not_found" })), []);
    });
  });

  describe("dashboard and alert rules", () => {
    it("read only metrics that a running Parley exposes", async () => {
      const exposed = sampleNames(await scrape(p.url));
      const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { panels: { title: string; targets?: { expr: string }[] }[] };
      const rules = parseYaml(await readFile(RULES, "utf8")) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
      const queries = [
        ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr }))),
        ...rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))),
      ];
      assert.ok(queries.length >= 30, `queries found: ${queries.length}`);
      const missing = queries.flatMap(({ where, expr }) => metricNamesIn(expr).flatMap((name) => (exposed.has(name) ? [] : [`${where}: ${name}`])));
      assert.deepEqual(missing, []);
      for (const { where, expr } of queries) assert.ok(metricNamesIn(expr).length > 0, `${where} reads a Parley metric`);
    });

    it("give every alert a severity, a summary and a duration, and every panel a query", async () => {
      const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { panels: { type: string; title: string; targets?: unknown[] }[] };
      for (const panel of dashboard.panels) {
        if (panel.type !== "row") assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has a query`);
      }
      const rules = parseYaml(await readFile(RULES, "utf8")) as {
        groups: { rules: { alert: string; for?: string; labels?: { severity?: string }; annotations?: { summary?: string } }[] }[];
      };
      const alerts = rules.groups.flatMap((group) => group.rules);
      assert.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, "alert names are unique");
      for (const alert of alerts) {
        assert.match(alert.labels?.severity ?? "", /^(critical|warning)$/, `${alert.alert}'s severity`);
        assert.ok(alert.annotations?.summary, `${alert.alert}'s summary`);
        assert.match(alert.for ?? "", /^\d+[smh]$/, `${alert.alert}'s duration`);
      }
    });
  });
});
