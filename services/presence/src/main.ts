import { runService } from "@parley/runtime";
import { presenceProcess } from "./wiring.js";

await runService(presenceProcess);
