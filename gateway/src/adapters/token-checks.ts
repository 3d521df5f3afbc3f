import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { AccountInternalService, type VerifyTokenResponse } from "@parley/contracts/parley/account/v1/account";
import { TurnBatch } from "@parley/runtime";

/** Most tokens one VerifyTokens call carries (account refuses more). */
export const TOKENS_PER_CALL = 1_000;
/** VerifyTokens calls out at once: tokens arriving meanwhile wait and go together (see TurnBatch). */
export const VERIFY_CALLS_IN_FLIGHT = 4;
/** How long a VerifyTokens call may take before it is made once more (the mesh takes the next account instance). */
export const VERIFY_TIMEOUT_MS = 1_500;

/**
 * Access tokens checked by account, the tokens of one event-loop turn's
 * upgrades in one VerifyTokens call: a reconnect storm (a gateway died and
 * its clients arrive here) costs a call per turn, not per client, and
 * with VERIFY_CALLS_IN_FLIGHT calls out, the tokens of later turns wait
 * and go together, so a storm is a handful of large calls. `check`
 * resolves to the token's identity and rejects with UNAUTHENTICATED and
 * account's reason for a refused token, or with the call's error when
 * account could not answer (an outage, which callers tell apart).
 *
 * A batch refused as a whole with INVALID_ARGUMENT (one token account's
 * field rules reject) or UNIMPLEMENTED (an account instance older than
 * VerifyTokens, during a rolling upgrade) is checked again one token at a
 * time, so one client's bad token never fails the others'. A call that
 * gets no answer within VERIFY_TIMEOUT_MS (a stopped or hung account
 * instance keeps its connections open, so nothing else would tell) is made
 * once more, on the next instance: checking a token changes nothing.
 */
export class TokenChecks {
  private readonly client;
  private readonly batch = new TurnBatch<string, VerifyTokenResponse | ConnectError>((tokens) => this.verify(tokens), TOKENS_PER_CALL, VERIFY_CALLS_IN_FLIGHT);

  constructor(account: Transport) {
    this.client = createClient(AccountInternalService, account);
  }

  async check(token: string): Promise<VerifyTokenResponse> {
    const answer = await this.batch.ask(token);
    if (answer instanceof ConnectError) throw answer;
    return answer;
  }

  private async verify(tokens: string[]): Promise<(VerifyTokenResponse | ConnectError)[]> {
    try {
      const { verdicts } = await this.client.verifyTokens({ accessTokens: tokens }, { timeoutMs: VERIFY_TIMEOUT_MS }).catch((err: unknown) => {
        if (ConnectError.from(err).code !== Code.DeadlineExceeded) throw err;
        return this.client.verifyTokens({ accessTokens: tokens }, { timeoutMs: VERIFY_TIMEOUT_MS });
      });
      return verdicts.map(({ verdict }) => {
        if (verdict.case === "identity") return verdict.value;
        return new ConnectError(verdict.case === "refusal" ? verdict.value : "the access token is not valid", Code.Unauthenticated);
      });
    } catch (err) {
      const { code } = ConnectError.from(err);
      if (code !== Code.InvalidArgument && code !== Code.Unimplemented) throw err;
      return Promise.all(tokens.map((accessToken) => this.client.verifyToken({ accessToken }).catch((e: unknown) => ConnectError.from(e))));
    }
  }
}
