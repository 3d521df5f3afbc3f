import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { TokenChecks } from "../src/adapters/token-checks.js";

/** Account's answers by token: "ok-<n>" is user n's, anything else is refused. */
function identityOf(token: string) {
  const n = /^ok-(\d+)$/.exec(token)?.[1];
  return n === undefined ? undefined : { userId: BigInt(n), deviceId: 1n, sessionId: 2n };
}

/** An account on Connect's in-memory transport that counts its calls; `batch` false plays an instance older than VerifyTokens. */
function account(batch: boolean) {
  const calls = { verifyTokens: [] as number[], verifyToken: 0 };
  const transport = createRouterTransport((router) =>
    router.service(AccountInternalService, {
      verifyTokens(req) {
        if (!batch) throw new ConnectError("unknown method", Code.Unimplemented);
        calls.verifyTokens.push(req.accessTokens.length);
        if (req.accessTokens.some((t) => t.includes("\0"))) throw new ConnectError("access_tokens must not hold NUL", Code.InvalidArgument);
        return {
          verdicts: req.accessTokens.map((t) => {
            const identity = identityOf(t);
            return identity ? { verdict: { case: "identity", value: identity } } : { verdict: { case: "refusal", value: "the access token is not valid" } };
          }),
        };
      },
      verifyToken(req) {
        calls.verifyToken++;
        if (req.accessToken.includes("\0")) throw new ConnectError("access_token must not hold NUL", Code.InvalidArgument);
        const identity = identityOf(req.accessToken);
        if (!identity) throw new ConnectError("the access token is not valid", Code.Unauthenticated);
        return identity;
      },
    }),
  );
  return { transport, calls };
}

describe("TokenChecks", () => {
  it("checks the tokens of one turn in one VerifyTokens call, each answered in its place", async () => {
    const { transport, calls } = account(true);
    const checks = new TokenChecks(transport);
    const answers = await Promise.allSettled([checks.check("ok-1"), checks.check("forged"), checks.check("ok-3")]);
    assert.deepEqual(calls.verifyTokens, [3]);
    assert.equal(calls.verifyToken, 0);
    assert.equal(answers[0].status === "fulfilled" && answers[0].value.userId, 1n);
    assert.equal(answers[2].status === "fulfilled" && answers[2].value.userId, 3n);
    assert.ok(answers[1].status === "rejected");
    const refused = ConnectError.from(answers[1].reason);
    assert.deepEqual([refused.code, refused.rawMessage], [Code.Unauthenticated, "the access token is not valid"]);
  });

  it("checks one token at a time when the batch is refused as a whole, so one bad token fails only itself", async () => {
    const { transport, calls } = account(true);
    const checks = new TokenChecks(transport);
    const [good, bad] = await Promise.allSettled([checks.check("ok-7"), checks.check("ok-\0")]);
    assert.equal(good.status === "fulfilled" && good.value.userId, 7n);
    assert.ok(bad.status === "rejected" && ConnectError.from(bad.reason).code === Code.InvalidArgument);
    assert.equal(calls.verifyToken, 2);
  });

  it("falls back to VerifyToken against an account instance that predates VerifyTokens", async () => {
    const { transport, calls } = account(false);
    const checks = new TokenChecks(transport);
    const [good, refused] = await Promise.allSettled([checks.check("ok-5"), checks.check("forged")]);
    assert.equal(good.status === "fulfilled" && good.value.userId, 5n);
    assert.ok(refused.status === "rejected" && ConnectError.from(refused.reason).code === Code.Unauthenticated);
    assert.equal(calls.verifyToken, 2);
  });

  it("asks once more when a call goes unanswered (a stopped account instance), which the mesh sends to the next", async () => {
    let calls = 0;
    const transport = createRouterTransport((router) =>
      router.service(AccountInternalService, {
        async verifyTokens(req, ctx) {
          if (++calls === 1) await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          return { verdicts: req.accessTokens.map((t) => ({ verdict: { case: "identity", value: identityOf(t)! } })) };
        },
      }),
    );
    const checks = new TokenChecks(transport);
    assert.equal((await checks.check("ok-4")).userId, 4n);
    assert.equal(calls, 2);
  });

  it("fails every check of the turn with the call's error when account cannot answer", async () => {
    const transport = createRouterTransport((router) =>
      router.service(AccountInternalService, {
        verifyTokens() {
          throw new ConnectError("down", Code.Unavailable);
        },
      }),
    );
    const checks = new TokenChecks(transport);
    const settled = await Promise.allSettled([checks.check("ok-1"), checks.check("ok-2")]);
    assert.deepEqual(
      settled.map((s) => s.status === "rejected" && ConnectError.from(s.reason).code),
      [Code.Unavailable, Code.Unavailable],
    );
  });
});
