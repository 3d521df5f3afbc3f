import { create, toBinary } from "@bufbuild/protobuf";
import { MemberRole as RoleMessage, SystemEventSchema, type SystemEvent } from "@parley/contracts/parley/chat/v1/chat";
import { countCodePoints } from "@parley/runtime";
import type { Actor } from "./chat.js";
import { AlreadyExists, InvalidInput, NotAllowed, NotFound, PreconditionFailed } from "../errors.js";
import { ConversationMissingError } from "../ports.js";
import type { ConversationRecord, DeliveryBus, GroupChange, IdSource, MemberRole, MessageStore, SendOutcome, StoredMessage, UserDirectory } from "../ports.js";

export interface GroupsOptions {
  store: MessageStore;
  ids: IdSource;
  users: UserDirectory;
  bus: DeliveryBus;
  now: () => Date;
  /** The member cap, the owner included (100 by default). */
  maxMembers: number;
}

const NAME_MAX = 100;
const RANK: Record<MemberRole, number> = { member: 1, admin: 2, owner: 3 };

/**
 * Groups: creation and membership with roles. Rights: any member may leave;
 * admins and the owner may rename, change settings, add members and remove
 * plain members; only the owner may remove admins, change roles, hand
 * ownership over and delete the group. The owner cannot leave while others
 * remain (hand ownership over first). Every change is stored with its
 * system message in one transaction under the group's row lock, so the
 * member cap holds under concurrency and the history always explains the
 * member list.
 */
export class Groups {
  constructor(private readonly o: GroupsOptions) {}

  async create(actor: Actor, nameRaw: string, memberIds: readonly bigint[], historyVisible: boolean): Promise<ConversationRecord> {
    const name = checkName(nameRaw);
    const others = [...new Set(memberIds)].filter((id) => id !== actor.userId);
    if (others.length + 1 > this.o.maxMembers) throw new PreconditionFailed(`a group has at most ${this.o.maxMembers} members`);
    await this.requireUsers(others);
    const id = await this.o.ids.next();
    const members = [{ userId: actor.userId, role: "owner" as const }, ...others.map((userId) => ({ userId, role: "member" as const }))];
    const event = create(SystemEventSchema, {
      event: { case: "groupCreated", value: { name, memberIds: members.map((m) => m.userId), byUserId: actor.userId } },
    });
    const { conversation, outcome } = await this.o.store.createGroup({
      id,
      name,
      settings: { historyVisibleToNewMembers: historyVisible },
      members,
      systemMessage: await this.systemMessage(id, event),
    });
    this.publish(outcome);
    return conversation;
  }

  async update(
    actor: Actor,
    conversationId: bigint,
    nameRaw: string,
    settings: { historyVisibleToNewMembers: boolean } | undefined,
  ): Promise<ConversationRecord> {
    const name = nameRaw === "" ? undefined : checkName(nameRaw);
    if (name === undefined && settings === undefined) throw new InvalidInput("name", "or settings is required");
    const event = create(SystemEventSchema, { event: { case: "groupRenamed", value: { name: name ?? "" } } });
    return this.change(conversationId, event, (group) => {
      requireRole(group, actor, "admin", "rename the group or change its settings");
      return { ...(name === undefined ? {} : { name }), ...(settings ? { settings } : {}) };
    });
  }

  async addMembers(actor: Actor, conversationId: bigint, userIdsRaw: readonly bigint[]): Promise<ConversationRecord> {
    const userIds = [...new Set(userIdsRaw)];
    if (userIds.length === 0) throw new InvalidInput("user_ids", "must name at least one user");
    await this.requireUsers(userIds);
    const event = create(SystemEventSchema, { event: { case: "membersAdded", value: { userIds, byUserId: actor.userId } } });
    return this.change(conversationId, event, (group) => {
      requireRole(group, actor, "admin", "add members");
      const present = userIds.filter((id) => group.members.some((m) => m.userId === id));
      if (present.length > 0) throw new AlreadyExists(`already a member: ${present.join(", ")}`);
      if (group.members.length + userIds.length > this.o.maxMembers) {
        throw new PreconditionFailed(`a group has at most ${this.o.maxMembers} members (it has ${group.members.length})`);
      }
      return { add: userIds.map((userId) => ({ userId, role: "member" as const })) };
    });
  }

  async removeMember(actor: Actor, conversationId: bigint, userId: bigint): Promise<void> {
    if (userId === 0n) throw new InvalidInput("user_id", "is required");
    const left = userId === actor.userId;
    const event = create(SystemEventSchema, { event: { case: "memberRemoved", value: { userId, left } } });
    await this.change(conversationId, event, (group) => {
      const me = requireRole(group, actor, "member", "leave");
      const target = group.members.find((m) => m.userId === userId);
      if (!target) throw new NotFound(`user ${userId} is not a member of this group`);
      if (left) {
        if (me.role === "owner" && group.members.length > 1) {
          throw new PreconditionFailed("the owner cannot leave while others remain: hand ownership over first");
        }
      } else if (RANK[me.role] < RANK.admin || RANK[target.role] >= RANK[me.role]) {
        throw new NotAllowed("you may not remove this member (admins remove members; only the owner removes admins)");
      }
      return { remove: [userId] };
    });
  }

  async setRole(actor: Actor, conversationId: bigint, userId: bigint, role: MemberRole): Promise<ConversationRecord> {
    const event = create(SystemEventSchema, { event: { case: "roleChanged", value: { userId, role: ROLE_MESSAGE[role] } } });
    return this.change(conversationId, event, (group) => {
      requireRole(group, actor, "owner", "change roles");
      if (!group.members.some((m) => m.userId === userId)) throw new NotFound(`user ${userId} is not a member of this group`);
      if (userId === actor.userId) throw new InvalidInput("user_id", "must be another member (hand ownership over to change your own role)");
      // Handing ownership over makes the old owner an admin: a group has exactly one owner.
      return role === "owner"
        ? {
            roles: [
              { userId, role: "owner" },
              { userId: actor.userId, role: "admin" },
            ],
          }
        : { roles: [{ userId, role }] };
    });
  }

  async delete(actor: Actor, conversationId: bigint): Promise<void> {
    const event = create(SystemEventSchema, { event: { case: "groupDeleted", value: {} } });
    await this.change(conversationId, event, (group) => {
      requireRole(group, actor, "owner", "delete the group");
      return { delete: true };
    });
  }

  private async change(
    conversationId: bigint,
    event: SystemEvent,
    decide: (group: ConversationRecord) => Omit<GroupChange, "systemMessage">,
  ): Promise<ConversationRecord> {
    if (conversationId === 0n) throw new InvalidInput("conversation_id", "is required");
    const systemMessage = await this.systemMessage(conversationId, event);
    const { conversation, outcome } = await this.o.store
      .updateGroup(conversationId, (group) => {
        if (group.kind !== "group" || group.deleted) throw new NotFound(`no group with id ${conversationId}`);
        return { ...decide(group), systemMessage };
      })
      .catch((err: unknown) => {
        throw err instanceof ConversationMissingError ? new NotFound(`no group with id ${conversationId}`) : err;
      });
    this.publish(outcome);
    return conversation;
  }

  private async systemMessage(conversationId: bigint, event: SystemEvent): Promise<StoredMessage> {
    return {
      messageId: await this.o.ids.next(),
      conversationId,
      senderId: 0n,
      senderDeviceId: 0n,
      clientMsgId: "",
      text: "",
      system: toBinary(SystemEventSchema, event),
      createdAt: this.o.now(),
    };
  }

  private publish(outcome: SendOutcome): void {
    for (const entry of outcome.entries) this.o.bus.publish(entry.userId, { kind: "entry", entry });
  }

  private async requireUsers(ids: readonly bigint[]): Promise<void> {
    if (ids.length === 0) return;
    const existing = await this.o.users.existing(ids);
    const unknown = ids.filter((id) => !existing.has(id));
    if (unknown.length > 0) throw new NotFound(`no user with id ${unknown.join(", ")}`);
  }
}

const ROLE_MESSAGE: Record<MemberRole, RoleMessage> = { member: RoleMessage.MEMBER, admin: RoleMessage.ADMIN, owner: RoleMessage.OWNER };

export function roleFromMessage(role: RoleMessage): MemberRole {
  if (role === RoleMessage.MEMBER) return "member";
  if (role === RoleMessage.ADMIN) return "admin";
  if (role === RoleMessage.OWNER) return "owner";
  throw new InvalidInput("role", "must be MEMBER, ADMIN or OWNER");
}

function requireRole(group: ConversationRecord, actor: Actor, least: MemberRole, what: string) {
  const me = group.members.find((m) => m.userId === actor.userId);
  if (!me) throw new NotAllowed("you are not a member of this conversation");
  if (RANK[me.role] < RANK[least]) throw new NotAllowed(`only ${least === "owner" ? "the owner" : "admins and the owner"} may ${what}`);
  return me;
}

function checkName(raw: string): string {
  const name = raw.trim();
  if (name === "") throw new InvalidInput("name", "must not be empty");
  if (countCodePoints(name) > NAME_MAX) throw new InvalidInput("name", `must be at most ${NAME_MAX} characters`);
  if (/\p{Cc}/u.test(name)) throw new InvalidInput("name", "must not contain control characters");
  return name;
}
