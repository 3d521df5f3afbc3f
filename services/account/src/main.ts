import { runService } from "@parley/runtime";
import { accountProcess } from "./wiring.js";

await runService(accountProcess);
