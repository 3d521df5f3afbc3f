import { runService } from "@parley/runtime";
import { embeddedProcess } from "./wiring.js";

await runService(embeddedProcess);
