import { loadAccountConfig } from "@parley/account";
import { loadChatConfig } from "@parley/chat";
import { loadGatewayConfig } from "@parley/gateway";
import { loadIdgenConfig } from "@parley/idgen";
import { loadNotifyConfig } from "@parley/notify";
import { loadPresenceConfig } from "@parley/presence";
import { ConfigError, env, loadEnv } from "@parley/runtime";
import type { EmbeddedConfig } from "./wiring.js";

/** Reads every service's variables and reports all problems at once. */
export function loadEmbeddedConfig(environment: NodeJS.ProcessEnv = process.env): EmbeddedConfig {
  const problems: string[] = [];
  const attempt = <T>(load: (e: NodeJS.ProcessEnv) => T): T | undefined => {
    try {
      return load(environment);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems.filter((p) => !problems.includes(p)));
      return undefined;
    }
  };
  const account = attempt(loadAccountConfig);
  const idgen = attempt(loadIdgenConfig);
  const chat = attempt(loadChatConfig);
  const presence = attempt(loadPresenceConfig);
  const notify = attempt(loadNotifyConfig);
  const gateway = attempt(loadGatewayConfig);
  const own = attempt((e) => loadEnv({ INTERNAL_PORT: env.int(1, 65535).optional() }, e));
  if (problems.length > 0 || !account || !idgen || !chat || !presence || !notify || !gateway || !own) throw new ConfigError(problems);
  return { account, idgen, chat, presence, notify, gateway, internalPort: own.INTERNAL_PORT, plane: gateway.plane };
}
