import assert from "node:assert/strict";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { AccountModerationService } from "@parley/contracts/parley/account/v1/account";
import type { ChatModerationService } from "@parley/contracts/parley/chat/v1/chat";
import { until } from "@parley/testkit";
import { callApi } from "./http-api.js";
import { RawSocket } from "./raw-socket.js";
import { connectDevice, type Device } from "./sdk.js";

/** A run mode as the moderation scenario needs it: the gateway, and the internal plane as an operator and as others. */
export interface ModerationWorld {
  gatewayUrl: string;
  wsUrl: string;
  /** The moderation services as `principal` ("operator:test", "app:test", "gateway"...). */
  accountAs(principal: string): Client<typeof AccountModerationService>;
  chatAs(principal: string): Client<typeof ChatModerationService>;
}

const PASSWORD = "correct horse battery";

async function refusedWith(call: Promise<unknown>, code: Code, message: RegExp): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    const e = ConnectError.from(err);
    assert.equal(Code[e.code], Code[code], e.message);
    assert.match(e.rawMessage, message);
    return true;
  });
}

/**
 * Operators' moderation end to end through real sockets: find a user, list
 * and end a session (its socket closes with 4102), delete a message for
 * everyone (members see it deleted), disable an account (its sockets close
 * with 4201, log-in and refresh refused) and enable it again; non-operators
 * and the public port are refused; bad input is refused clearly.
 */
export async function moderate(world: ModerationWorld, prefix: string): Promise<void> {
  const api = world.gatewayUrl;
  const operator = world.accountAs("operator:test");
  const chatOperator = world.chatAs("operator:test");
  const [target, member] = [`${prefix}_u`, `${prefix}_v`];
  for (const username of [target, member]) assert.equal((await callApi(api, "SignUp", { username, password: PASSWORD })).status, 200);
  const logIn = async (username: string, deviceName: string) => {
    const res = await callApi(api, "LogIn", { username, password: PASSWORD, deviceName });
    return res;
  };
  const phone = (await logIn(target, "phone")).body;
  const laptop = (await logIn(target, "laptop")).body;
  const memberLogIn = (await logIn(member, "phone")).body;
  const userId = BigInt(phone.profile.userId);
  const sockets: RawSocket[] = [];
  const devices: Device[] = [];
  try {
    const phoneSocket = await RawSocket.open(world.wsUrl, phone.session.accessToken);
    const laptopSocket = await RawSocket.open(world.wsUrl, laptop.session.accessToken);
    sockets.push(phoneSocket, laptopSocket);
    const sender = await connectDevice(api, phone.session.accessToken);
    const reader = await connectDevice(api, memberLogIn.session.accessToken);
    devices.push(sender, reader);

    // Find a user, by username and by id; bad input.
    const found = await operator.findUser({ username: target.toUpperCase() });
    assert.equal(found.profile?.userId, userId);
    assert.equal(found.disabledAt, undefined);
    assert.ok(found.liveSessions >= 2, String(found.liveSessions));
    assert.equal((await operator.findUser({ userId })).profile?.username, target);
    await refusedWith(operator.findUser({}), Code.InvalidArgument, /^user is required \(user_id or username\)$/);
    await refusedWith(operator.findUser({ userId, username: target }), Code.InvalidArgument, /not both/);
    await refusedWith(operator.findUser({ username: `${prefix}_nobody` }), Code.NotFound, /no user named/);

    // List sessions; end the laptop's: its socket closes with 4102, the phone's stays.
    const { sessions } = await operator.listSessions({ userId });
    const laptopSession = sessions.find((s) => s.deviceId === BigInt(laptop.device.deviceId));
    assert.ok(
      laptopSession && laptopSession.deviceName === "laptop" && laptopSession.createdAt !== undefined,
      JSON.stringify(sessions.map((s) => s.deviceName)),
    );
    await operator.endSession({ userId, sessionId: laptopSession.sessionId });
    assert.equal((await laptopSocket.closedWith()).code, 4102);
    assert.equal(phoneSocket.closed, undefined, "the other session's socket stays open");
    assert.equal((await callApi(api, "RefreshSession", { refreshToken: laptop.session.refreshToken })).status, 401, "the ended session cannot refresh");
    await refusedWith(operator.endSession({ userId, sessionId: laptopSession.sessionId }), Code.NotFound, /no live session/);
    await refusedWith(operator.endSession({ userId: BigInt(memberLogIn.profile.userId), sessionId: sessions[0]!.sessionId }), Code.NotFound, /no live session/);
    await refusedWith(operator.listSessions({}), Code.InvalidArgument, /^user_id is required$/);

    // Delete any message for everyone: the member sees it deleted, history shows a tombstone; a repeat changes nothing.
    const conversationId = (await sender.client.openDirect(BigInt(memberLogIn.profile.userId))).conversationId;
    const abuse = await sender.client.send(conversationId, "something abusive");
    await reader.received(1);
    const deleted = await chatOperator.moderateDeleteMessage({ conversationId, messageId: abuse.messageId, reason: "report 17" });
    assert.deepEqual([deleted.unchanged, deleted.senderId], [false, userId]);
    await until(() => reader.deletions.some((d) => d.messageId === abuse.messageId && d.forEveryone), "the member to see the message deleted");
    const [tombstone] = (await reader.client.history(conversationId)).messages;
    assert.deepEqual([tombstone!.messageId, tombstone!.deleted, tombstone!.text], [abuse.messageId, true, ""]);
    assert.equal((await chatOperator.moderateDeleteMessage({ conversationId, messageId: abuse.messageId })).unchanged, true);
    await refusedWith(chatOperator.moderateDeleteMessage({ conversationId, messageId: abuse.messageId + 1_000_000n }), Code.NotFound, /no message with id/);
    await refusedWith(chatOperator.moderateDeleteMessage({ conversationId: 1n, messageId: 1n }), Code.NotFound, /no conversation with id 1/);
    await refusedWith(chatOperator.moderateDeleteMessage({ conversationId, messageId: 0n }), Code.InvalidArgument, /^message_id is required$/);

    // Disable: every socket closes with 4201; log-in and refresh are refused; a repeat says it was disabled.
    const disabled = await operator.disableAccount({ userId, reason: "spam" });
    assert.equal(disabled.wasDisabled, false);
    assert.ok(disabled.endedSessionIds.length >= 1);
    assert.equal((await phoneSocket.closedWith()).code, 4201);
    const refused = await logIn(target, "phone");
    assert.deepEqual([refused.status, refused.body.code, refused.body.message], [403, "permission_denied", "this account is disabled"]);
    assert.equal((await callApi(api, "RefreshSession", { refreshToken: phone.session.refreshToken })).status, 401);
    await assert.rejects(RawSocket.open(world.wsUrl, phone.session.accessToken), { status: 401 });
    assert.ok((await operator.findUser({ userId })).disabledAt !== undefined);
    assert.equal((await operator.disableAccount({ userId })).wasDisabled, true);
    const wrongPassword = await callApi(api, "LogIn", { username: target, password: "not the password at all", deviceName: "x" });
    assert.equal(wrongPassword.status, 401, "a wrong password still says only that: disabled accounts are not revealed to guessers");
    await refusedWith(operator.disableAccount({ userId: 999_999_999n }), Code.NotFound, /no user with id/);
    await refusedWith(operator.disableAccount({ userId, reason: "x".repeat(501) }), Code.InvalidArgument, /reason must be at most 500 characters/);

    // Enable: log-in works again.
    assert.equal((await operator.enableAccount({ userId })).wasDisabled, true);
    assert.equal((await operator.enableAccount({ userId })).wasDisabled, false);
    const back = await logIn(target, "phone");
    assert.equal(back.status, 200, JSON.stringify(back.body));
    sockets.push(await RawSocket.open(world.wsUrl, back.body.session.accessToken));
    assert.equal((await operator.findUser({ userId })).disabledAt, undefined);

    // Only operators, and never on the public port.
    for (const principal of ["app:test", "gateway"]) {
      await refusedWith(
        world.accountAs(principal).findUser({ userId }),
        Code.PermissionDenied,
        /may not call parley\.account\.v1\.AccountModerationService\/FindUser/,
      );
      await refusedWith(
        world.chatAs(principal).moderateDeleteMessage({ conversationId, messageId: abuse.messageId }),
        Code.PermissionDenied,
        /may not call parley\.chat\.v1\.ChatModerationService\/ModerateDeleteMessage/,
      );
    }
    const publicPort = await fetch(`${api}/parley.account.v1.AccountModerationService/DisableAccount`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${back.body.session.accessToken}` },
      body: JSON.stringify({ userId: String(userId) }),
    });
    assert.equal(publicPort.status, 404, "the gateway's public port does not serve moderation");
    assert.equal((await operator.findUser({ userId })).disabledAt, undefined);
  } finally {
    for (const s of sockets) s.close();
    await Promise.all(devices.map((d) => d.client.close()));
  }
}
