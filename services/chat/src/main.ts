import { runService } from "@parley/runtime";
import { chatProcess } from "./wiring.js";

await runService(chatProcess);
