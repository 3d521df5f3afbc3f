import { runService } from "@parley/runtime";
import { idgenProcess } from "./wiring.js";

await runService(idgenProcess);
