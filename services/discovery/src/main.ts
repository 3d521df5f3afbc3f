import { runService } from "@parley/runtime";
import { discoveryProcess } from "./wiring.js";

await runService(discoveryProcess);
