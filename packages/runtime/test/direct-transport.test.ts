import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createContextKey, createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { ChatService, StreamResponseSchema, type StreamRequest } from "@parley/contracts/parley/chat/v1/chat";
import { IdGenService, NextIdsRequestSchema, type NextIdsRequest } from "@parley/contracts/parley/idgen/v1/idgen";
import { directTransport } from "../src/direct-transport.js";

const seenBy = createContextKey<string>("nobody");

describe("direct transport (in-process calls without serialisation)", () => {
  it("hands the caller's message to the handler as it is, with headers and context values, and returns the reply", async () => {
    let received: NextIdsRequest | undefined;
    let header: string | null = null;
    let value = "";
    const routes = (router: ConnectRouter) =>
      router.service(IdGenService, {
        nextIds(request, context) {
          received = request;
          header = context.requestHeader.get("x-test");
          value = context.values.get(seenBy);
          context.responseHeader.set("x-reply", "yes");
          return { ids: [1n, 2n, 3n] };
        },
      });
    const sent = create(NextIdsRequestSchema, { count: 3 });
    const transport = directTransport(routes);
    const values = createContextValues().set(seenBy, "interceptor-free");
    const response = await transport.unary(IdGenService.method.nextIds, undefined, undefined, { "x-test": "hello" }, sent, values);
    assert.equal(received, sent, "the same object, not a decoded copy");
    assert.equal(header, "hello");
    assert.equal(value, "interceptor-free");
    assert.deepEqual(response.message.ids, [1n, 2n, 3n]);
    assert.equal(response.header.get("x-reply"), "yes");
    // A plain init object from a client is made a full message first.
    const ids = await createClient(IdGenService, transport).nextIds({ count: 1 });
    assert.deepEqual(ids.ids, [1n, 2n, 3n]);
  });

  it("runs the server interceptors in order around the handler, and they can refuse", async () => {
    const order: string[] = [];
    const tag =
      (name: string): Interceptor =>
      (next) =>
      async (req) => {
        order.push(name);
        if (req.header.get("x-refuse") === name) throw new ConnectError(`refused by ${name}`, Code.PermissionDenied);
        return next(req);
      };
    const routes = (router: ConnectRouter) =>
      router.service(IdGenService, {
        nextIds: () => {
          order.push("handler");
          return { ids: [] };
        },
      });
    const client = createClient(IdGenService, directTransport(routes, [tag("first"), tag("second")]));
    await client.nextIds({ count: 1 });
    assert.deepEqual(order, ["first", "second", "handler"]);
    await assert.rejects(
      client.nextIds({ count: 1 }, { headers: { "x-refuse": "second" } }),
      (err: unknown) => err instanceof ConnectError && err.code === Code.PermissionDenied,
    );
  });

  it("turns errors into ConnectErrors as a server would: codes kept, anything else internal; unserved methods unimplemented", async () => {
    const routes = (router: ConnectRouter) =>
      router.service(IdGenService, {
        nextIds: (request) => {
          if (request.count === 0) throw new ConnectError("count must be positive", Code.InvalidArgument);
          throw new TypeError("a bug");
        },
      });
    const client = createClient(IdGenService, directTransport(routes));
    await assert.rejects(
      client.nextIds({ count: 0 }),
      (err: unknown) => err instanceof ConnectError && err.code === Code.InvalidArgument && err.rawMessage === "count must be positive",
    );
    await assert.rejects(
      client.nextIds({ count: 1 }),
      (err: unknown) => err instanceof ConnectError && err.code === Code.Internal && err.rawMessage === "a bug",
    );
    await assert.rejects(client.decodeId({ id: 1n }), (err: unknown) => err instanceof ConnectError && err.code === Code.Unimplemented);
    await assert.rejects(
      createClient(ChatService, directTransport(routes)).getCursor({}),
      (err: unknown) => err instanceof ConnectError && err.code === Code.Unimplemented,
    );
  });

  it("ends a call at its deadline even when the handler never answers, and aborts the handler's signal", async () => {
    let handlerSignal: AbortSignal | undefined;
    const routes = (router: ConnectRouter) =>
      router.service(IdGenService, {
        nextIds: (_request, context) => {
          handlerSignal = context.signal;
          return new Promise(() => {});
        },
      });
    await assert.rejects(
      createClient(IdGenService, directTransport(routes)).nextIds({ count: 1 }, { timeoutMs: 20 }),
      (err: unknown) => err instanceof ConnectError && err.code === Code.DeadlineExceeded,
    );
    assert.equal(handlerSignal?.aborted, true);
  });

  it("streams both ways; cancelling fails the reader at once and fires the handler's signal", async () => {
    let handlerSignal: AbortSignal | undefined;
    const routes = (router: ConnectRouter) =>
      router.service(ChatService, {
        async *stream(requests: AsyncIterable<StreamRequest>, context) {
          handlerSignal = context.signal;
          for await (const request of requests)
            yield create(StreamResponseSchema, { replies: request.commands.map((c) => ({ correlationId: c.correlationId })) });
        },
      });
    const client = createClient(ChatService, directTransport(routes));
    async function* requests() {
      for (let id = 1n; ; id++) yield { commands: [{ correlationId: id }] };
    }
    const ids: bigint[] = [];
    const cancel = new AbortController();
    await assert.rejects(
      (async () => {
        for await (const response of client.stream(requests(), { signal: cancel.signal })) {
          ids.push(...response.replies.map((r) => r.correlationId));
          if (ids.length === 3) cancel.abort();
        }
      })(),
      (err: unknown) => err instanceof ConnectError && err.code === Code.Canceled,
    );
    assert.deepEqual(ids, [1n, 2n, 3n]);
    assert.equal(handlerSignal!.aborted, true);
  });

  it("delivers a streaming handler's error to the reader as a ConnectError", async () => {
    const routes = (router: ConnectRouter) =>
      router.service(ChatService, {
        // biome-ignore lint/correctness/useYield: the point is a stream that fails before its first message
        async *stream() {
          throw new ConnectError("not now", Code.Unavailable);
        },
      });
    const client = createClient(ChatService, directTransport(routes));
    await assert.rejects(
      (async () => {
        for await (const _ of client.stream((async function* () {})())) void _;
      })(),
      (err: unknown) => err instanceof ConnectError && err.code === Code.Unavailable,
    );
  });
});
