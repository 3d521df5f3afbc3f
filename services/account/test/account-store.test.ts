import { openTestStorage } from "@parley/testkit";
import { openAccountStore } from "../src/wiring.js";
import { describeAccountStoreBlocksContract } from "./account-store-blocks-contract.js";
import { describeAccountStoreContract } from "./account-store-contract.js";
import { describeAccountStoreSocialContract } from "./account-store-social-contract.js";
import type { StoreKind } from "./harness.js";

/** The AccountStore contract over each adapter, each opened as the composition root opens it (schema migrated). */
for (const kind of ["sqlite", "postgres"] satisfies StoreKind[]) {
  const open = async () => {
    const { storage, cleanup } = await openTestStorage(kind, "parley_account");
    try {
      return { store: await openAccountStore(storage), cleanup };
    } catch (err) {
      await cleanup();
      throw err;
    }
  };
  describeAccountStoreContract(kind, open);
  describeAccountStoreSocialContract(kind, open);
  describeAccountStoreBlocksContract(kind, open);
}
