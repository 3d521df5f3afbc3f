import type { InboxEntry, SendResponse } from "@parley/contracts/parley/chat/v1/chat";
import { CloseCode, type ServerFrame, type Welcome } from "@parley/contracts/parley/client/v1/client";
import { closeAction, handshakeAction, type ReplyOf, type RequestBody, type RequestKind } from "@parley/wire";
import { Backoff } from "./backoff.js";
import { GatewayPicker } from "./pick-gateway.js";
import { Connection } from "./connection.js";
import { ChatRequests } from "./chat-requests.js";
import { AuthenticationError, ClientClosedError, ConnectionClosedError, ParleyError, toParleyError } from "./errors.js";
import { InboxTracker } from "./inbox.js";
import { disconnectInfo, endpoint, resolveOptions, type ParleyClientOptions, type ResolvedOptions, type TokenReason } from "./options.js";
import { Outbox } from "./outbox.js";
import { ReadyGate } from "./ready-gate.js";
import type { SocketCloseInfo } from "./socket.js";
import { InboxSync } from "./sync.js";

/** idle: connect() not called yet; stopped: the server said not to reconnect (see the error event); closed: close() was called. */
export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "stopped" | "closed";

export interface SendOptions {
  /** The de-duplication key; default a random UUID. Pass your own to retry a send across app restarts. */
  clientMsgId?: string;
  /** Cancels the send (it may already be stored; resend with the same clientMsgId to find out). */
  signal?: AbortSignal;
  /** Give up with DEADLINE_EXCEEDED after this many ms. Default: wait, across reconnects, until acknowledged. */
  timeoutMs?: number;
  /**
   * Makes the message a reply to this message of the same conversation;
   * members see it with `replyTo` (the quoted message's id, sender, a preview
   * of its text, or `deleted`).
   */
  replyToMessageId?: bigint;
}

/** A connection that stayed up this long was healthy: the next reconnect starts from the shortest backoff. */
const HEALTHY_MS = 10_000;
/** After close 4002 (rate limited), backoff starts from this attempt: a window of 4 s with the defaults. */
const RATE_LIMITED_ATTEMPT = 4;

/**
 * A Parley device connection. It connects, keeps the inbox in sync (every
 * message, read receipt, edit and deletion delivered to the listeners exactly once, in seq
 * order, across reconnects), reconnects by the close-code table with jittered
 * backoff, and keeps unacknowledged sends in an outbox that never duplicates a
 * message. Requests other than send fail fast with a retryable error if the
 * connection drops while they wait.
 */
export class ParleyClient extends ChatRequests {
  private readonly options: ResolvedOptions;
  private readonly tracker: InboxTracker;
  private readonly inbox: InboxSync;
  private readonly outbox: Outbox;
  private readonly backoff: Backoff;
  private picker: GatewayPicker | undefined;
  private readonly gate = new ReadyGate<Connection>();
  private current: ClientState = "idle";
  private connection: Connection | undefined;
  private lastWelcome: Welcome | undefined;
  private token: string | undefined;
  private wake: (() => void) | undefined;

  constructor(options: ParleyClientOptions) {
    super();
    this.options = resolveOptions(options);
    this.token = this.options.token;
    this.tracker = new InboxTracker(this.options.cursor ?? 0n);
    this.backoff = new Backoff(this.options.backoff);
    this.outbox = new Outbox(this.options.backoff);
    this.inbox = new InboxSync(
      this.tracker,
      {
        deliver: (entries) => this.deliver(entries),
        synced: (cursor, headSeq) => this.emit("synced", cursor, headSeq),
        failed: (err) => this.emit("error", toParleyError(err)),
      },
      { pageSize: this.options.syncPageSize, ackDelayMs: this.options.ackDelayMs, backoff: this.options.backoff },
    );
  }

  get state(): ClientState {
    return this.current;
  }

  /** The highest inbox seq delivered with nothing missing below it. */
  get cursor(): bigint {
    return this.tracker.cursor;
  }

  /** The current connection's Welcome (the user and device ids, limits). */
  get welcome(): Welcome | undefined {
    return this.lastWelcome;
  }

  /** Sends not yet acknowledged. */
  get pendingSends(): number {
    return this.outbox.size;
  }

  /**
   * Connects and resolves with the first Welcome. Retries (with backoff) until
   * then, like any reconnect; rejects if the client stops or closes first.
   * Aborting the signal closes the client.
   */
  connect(options: { signal?: AbortSignal } = {}): Promise<Welcome> {
    if (options.signal?.aborted) void this.close();
    if (this.current === "closed") return Promise.reject(new ClientClosedError());
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
    if (this.current === "open" && this.lastWelcome) return Promise.resolve(this.lastWelcome);
    if (this.current === "idle" || this.current === "stopped") {
      this.gate.reset();
      this.current = "connecting";
      void this.run();
    }
    return this.gate.wait().then((connection) => connection.welcome!);
  }

  /** Closes the connection for good, after acknowledging the cursor (waiting at most a second); pending work fails with ClientClosedError. */
  async close(): Promise<void> {
    if (this.current === "closed") return;
    this.current = "closed";
    this.wake?.();
    const err = new ClientClosedError();
    this.outbox.failAll(err);
    this.gate.fail(err);
    await this.inbox.flushAck(1_000);
    this.inbox.detach();
    this.connection?.close(1000, "client closed");
  }

  /** Sends a text message; resolves when it is stored. See SendOptions and Outbox for the retry guarantees. */
  send(conversationId: bigint, text: string, options: SendOptions = {}): Promise<SendResponse> {
    if (this.current === "closed" || this.current === "stopped") return Promise.reject(this.gate.failure ?? new ClientClosedError());
    const clientMsgId = options.clientMsgId ?? globalThis.crypto.randomUUID();
    const reply = options.replyToMessageId === undefined || options.replyToMessageId === 0n ? {} : { replyToMessageId: options.replyToMessageId };
    return this.outbox.add({ conversationId, clientMsgId, text, ...reply }, options);
  }

  /**
   * Gives up on a send that is still waiting for its acknowledgement (the
   * outbox retries it until then, through outages and reconnects): its
   * promise rejects with CANCELLED. Returns false when nothing with this
   * clientMsgId is waiting. An attempt already sent may still be stored;
   * sending again with the same clientMsgId tells (duplicate: true).
   */
  cancelSend(clientMsgId: string): boolean {
    return this.outbox.cancelById(clientMsgId, new ParleyError("CANCELLED", "the send was cancelled", false));
  }

  /** Syncs now. The client syncs by itself after every (re)connect and on every gap; this is for "pull to refresh". */
  sync(): Promise<void> {
    return this.inbox.sync();
  }

  /** One request on the current connection, waiting for a reconnect within the same timeout. */
  protected async call<K extends RequestKind>(kind: K, body: RequestBody<K>): Promise<ReplyOf<K>> {
    const timeoutMs = this.options.requestTimeoutMs;
    const started = Date.now();
    if (this.current === "idle") throw new ParleyError("FAILED_PRECONDITION", "call connect() first");
    const connection = await this.gate.wait(timeoutMs, kind);
    return connection.request(kind, body, Math.max(1, timeoutMs - (Date.now() - started)));
  }

  /** The reconnect loop: one connection at a time until the client stops or closes. */
  private async run(): Promise<void> {
    let ask: TokenReason | undefined;
    while (this.current !== "closed" && this.current !== "stopped") {
      const token = await this.obtainToken(ask);
      if (token === undefined || this.isOver()) return;
      const url = await this.gatewayUrl();
      if (this.isOver()) return;
      if (url === undefined) {
        // Discovery could not name a gateway: try again after the usual backoff.
        const delay = this.backoff.next();
        this.current = "reconnecting";
        this.emit("disconnected", { code: 1006, reason: "no gateway available", action: "reconnect", reconnectInMs: delay });
        await this.sleep(delay);
        continue;
      }
      const { info, welcomedFor } = await this.dial(token, url);
      this.picker?.lost();
      if (this.isOver()) return;
      const action = info.httpStatus === undefined ? closeAction(info.code) : handshakeAction(info.httpStatus);
      if (action === "stop") return this.stop(new ConnectionClosedError(info.code, info.reason, action, info.httpStatus), info);
      if (action === "reauthenticate" && !this.options.getToken) {
        return this.stop(
          new AuthenticationError(`the server refused the access token (${info.httpStatus ?? info.code}: ${info.reason}) and no getToken was given`),
          info,
        );
      }
      ask = action === "reauthenticate" ? "refused" : welcomedFor === undefined ? "connect" : undefined;
      if (welcomedFor !== undefined && welcomedFor >= HEALTHY_MS) this.backoff.reset();
      if (info.code === CloseCode.RATE_LIMITED) this.backoff.atLeast(RATE_LIMITED_ATTEMPT);
      // A token that expired after a healthy session is replaced at once; every other retry waits.
      const delay = action === "reauthenticate" && welcomedFor !== undefined && welcomedFor >= HEALTHY_MS ? 0 : this.backoff.next();
      this.current = "reconnecting";
      this.emit("disconnected", { ...disconnectInfo(info), action, reconnectInMs: delay });
      await this.sleep(delay);
    }
  }

  private isOver(): boolean {
    return this.current === "closed" || this.current === "stopped";
  }

  private async obtainToken(ask: TokenReason | undefined): Promise<string | undefined> {
    const { getToken } = this.options;
    if (getToken && (ask !== undefined || this.token === undefined)) {
      const refused = ask === "refused" ? this.token : undefined;
      try {
        this.token = await getToken(ask ?? "connect");
      } catch (err) {
        this.stop(new AuthenticationError("getToken failed", { cause: err }));
        return undefined;
      }
      // The same token again would only be refused again, forever: the application must log in.
      if (refused !== undefined && this.token === refused) return void this.stop(new AuthenticationError("getToken gave back the token just refused"));
    }
    return this.token;
  }

  /** The gateway to dial: discovery's pick when configured (undefined when it fails), else the configured url. */
  private async gatewayUrl(): Promise<string | undefined> {
    const { discovery, url, requestTimeoutMs } = this.options;
    if (discovery === undefined) return url;
    try {
      this.picker ??= new GatewayPicker(discovery);
      return endpoint(await this.picker.pick(requestTimeoutMs));
    } catch (err) {
      this.emit("error", new ParleyError("UNAVAILABLE", "discovery could not name a gateway", true, { cause: err }));
      return undefined;
    }
  }

  /** Opens one connection; resolves when it has ended, with how long it was welcomed for (undefined: never). */
  private dial(token: string, url: string): Promise<{ info: SocketCloseInfo; welcomedFor: number | undefined }> {
    const { format, socketFactory, requestTimeoutMs, probeTimeoutMs, probeAfterMs } = this.options;
    return new Promise((resolve) => {
      let welcomedAt: number | undefined;
      const connection = new Connection(
        { url, format, token, socketFactory, requestTimeoutMs, probeTimeoutMs, probeAfterMs },
        {
          welcome: (welcome) => {
            welcomedAt = Date.now();
            this.welcomed(connection, welcome);
          },
          push: (frame) => this.pushed(frame),
          malformed: (err) => this.emit("error", new ParleyError("INTERNAL", "a frame from the server could not be decoded", false, { cause: err })),
          closed: (info) => {
            if (this.connection === connection) this.connection = undefined;
            this.gate.close();
            this.inbox.detach();
            this.outbox.pause();
            resolve({ info, welcomedFor: welcomedAt === undefined ? undefined : Date.now() - welcomedAt });
          },
        },
      );
      this.connection = connection;
      connection.open();
    });
  }

  private welcomed(connection: Connection, welcome: Welcome): void {
    this.picker?.welcomed();
    if (this.isOver()) return;
    if (this.lastWelcome === undefined && this.options.cursor === undefined && this.options.startFrom === "server") {
      this.tracker.skipTo(welcome.cursorSeq);
      this.emit("cursor", this.tracker.cursor);
    }
    this.lastWelcome = welcome;
    this.current = "open";
    this.emit("connected", welcome);
    this.gate.open(connection);
    this.inbox.attach(connection, welcome.cursorSeq, welcome.headSeq);
    this.outbox.resume((message) => connection.request("send", message));
  }

  private pushed(frame: ServerFrame): void {
    const { body } = frame;
    switch (body.case) {
      case "entry":
        this.inbox.offer(body.value);
        break;
      case "typing":
        this.emit("typing", body.value);
        break;
      case "presence":
        this.emit("presence", body.value);
        break;
      case "error":
        this.emit("error", ParleyError.fromFrame(body.value));
        break;
      default:
        break; // a push this version does not know
    }
  }

  private deliver(entries: InboxEntry[]): void {
    for (const entry of entries) {
      const { item } = entry;
      if (item.case === "message") this.emit("message", item.value, entry.seq);
      else if (item.case === "read") this.emit("read", item.value, entry.seq);
      else if (item.case === "edited" && item.value.message) this.emit("edited", item.value.message, entry.seq);
      else if (item.case === "deleted") this.emit("deleted", item.value, entry.seq);
      else if (item.case === "reacted") this.emit("reacted", item.value, entry.seq);
    }
    this.emit("cursor", this.tracker.cursor);
  }

  /** Ends for good because of the server: nothing reconnects until connect() is called again. */
  private stop(err: ParleyError, info?: SocketCloseInfo): void {
    this.current = "stopped";
    this.gate.fail(err);
    this.outbox.failAll(err);
    if (info) this.emit("disconnected", { ...disconnectInfo(info), action: "stop" });
    this.emit("error", err);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
