import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  DeviceSchema,
  FriendshipState,
  ProfileSchema,
  SessionSchema,
  SettingsSchema,
  type Settings,
  type Device as DeviceMessage,
  type Profile,
  type Session,
} from "@parley/contracts/parley/account/v1/account";
import type { SessionTokens } from "./domain/accounts.js";
import type { Device, FriendState, User } from "./ports.js";
import { DEFAULT_SETTINGS, type SettingsRecord } from "./domain/settings.js";

/** Domain records to contract messages. Password hashes never leave the domain. */
export function toProfile(user: User): Profile {
  return create(ProfileSchema, {
    userId: user.id,
    username: user.username,
    displayName: user.displayName,
    createdAt: timestampFromDate(user.createdAt),
  });
}

export function toDeviceMessage(device: Device): DeviceMessage {
  return create(DeviceSchema, {
    deviceId: device.id,
    name: device.name,
    loggedIn: device.loggedIn,
    pushPlatform: device.pushPlatform,
    createdAt: timestampFromDate(device.createdAt),
    lastSeenAt: timestampFromDate(device.lastSeenAt),
  });
}

export function toSession(tokens: SessionTokens): Session {
  return create(SessionSchema, {
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: timestampFromDate(tokens.accessExpiresAt),
    refreshToken: tokens.refreshToken,
    refreshTokenExpiresAt: timestampFromDate(tokens.refreshExpiresAt),
  });
}

const FRIEND_STATES: Record<FriendState | "none", FriendshipState> = {
  none: FriendshipState.NONE,
  friends: FriendshipState.FRIENDS,
  request_sent: FriendshipState.REQUEST_SENT,
  request_received: FriendshipState.REQUEST_RECEIVED,
};

export function toFriendshipState(state: FriendState | "none"): FriendshipState {
  return FRIEND_STATES[state];
}

export function toSettingsMessage(s: SettingsRecord): Settings {
  return create(SettingsSchema, { ...s, mutedConversationIds: s.mutedConversationIds });
}

/** The request's values; an absent message reads as the defaults (only named fields are applied anyway). */
export function fromSettingsMessage(m: Settings | undefined): SettingsRecord {
  if (m === undefined) return { ...DEFAULT_SETTINGS, mutedConversationIds: [] };
  return {
    pushEnabled: m.pushEnabled,
    emailEnabled: m.emailEnabled,
    smsEnabled: m.smsEnabled,
    showPreviews: m.showPreviews,
    mutedConversationIds: [...m.mutedConversationIds],
    hidePresence: m.hidePresence,
    email: m.email,
    phone: m.phone,
    previewLength: m.previewLength,
    muteMentions: m.muteMentions,
  };
}
