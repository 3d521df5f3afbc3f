import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import { AccountService } from "@parley/contracts/parley/account/v1/account";
import { DependencyUnavailable } from "@parley/runtime";
import { forwardUnary } from "../src/forward.js";

/** The public API's forwarding to account, against an account on Connect's in-memory transport that fails as told. */
function forwarded(failure: ConnectError) {
  const upstream = createRouterTransport((router) =>
    router.service(AccountService, {
      getProfile() {
        throw failure;
      },
    }),
  );
  const impl = forwardUnary(AccountService, createClient(AccountService, upstream), 1_000, "the account service");
  const context = { requestHeader: new Headers(), signal: new AbortController().signal, values: { get: () => undefined } } as unknown as HandlerContext;
  return (impl.getProfile as (req: object, ctx: HandlerContext) => Promise<unknown>)({}, context);
}

describe("forwardUnary", () => {
  it("tells a call the upstream reset (cancelled though the client did not cancel) as the upstream being unavailable", async () => {
    await assert.rejects(forwarded(new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled)), (err: unknown) => {
      return err instanceof DependencyUnavailable;
    });
  });

  it("passes the upstream's own answer on", async () => {
    await assert.rejects(forwarded(new ConnectError("no such user", Code.NotFound)), (err: unknown) => ConnectError.from(err).code === Code.NotFound);
  });
});
