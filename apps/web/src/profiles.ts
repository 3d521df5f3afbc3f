import { getProfile, type Profile } from "./api.js";

/**
 * Names for user ids, fetched once each (GetProfile) and cached for the
 * page's life. `nameOf` answers at once, with a placeholder until the
 * profile arrives; `onLoaded` then asks for a redraw.
 */
export class Profiles {
  private readonly known = new Map<bigint, Profile>();
  private readonly asked = new Set<bigint>();

  constructor(
    private readonly token: () => Promise<string>,
    private readonly onLoaded: () => void,
  ) {}

  remember(profile: Profile): void {
    this.known.set(profile.userId, profile);
  }

  nameOf = (userId: bigint): string => {
    const profile = this.known.get(userId);
    if (profile) return profile.displayName || profile.username;
    this.load(userId);
    return `user ${userId}`;
  };

  /** The username (for @handles), or undefined until loaded. */
  usernameOf(userId: bigint): string | undefined {
    return this.known.get(userId)?.username;
  }

  /** Finds a user by username (to open a chat or add a member); throws ApiError not_found. */
  async byUsername(username: string): Promise<Profile> {
    const profile = await getProfile(await this.token(), { username });
    this.remember(profile);
    return profile;
  }

  private load(userId: bigint): void {
    if (this.asked.has(userId) || userId === 0n) return;
    this.asked.add(userId);
    void (async () => {
      try {
        this.remember(await getProfile(await this.token(), { userId }));
        this.onLoaded();
      } catch {
        this.asked.delete(userId); // try again at the next redraw
      }
    })();
  }
}
