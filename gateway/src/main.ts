import { runService } from "@parley/runtime";
import { gatewayProcess } from "./wiring.js";

await runService(gatewayProcess);
