import { runService } from "@parley/runtime";
import { notifyProcess } from "./wiring.js";

await runService(notifyProcess);
