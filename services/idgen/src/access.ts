import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { accessPolicy } from "@parley/runtime";

/** Chat takes ids; operators (and chat) may decode one. */
export const idgenAccess = accessPolicy([
  IdGenService.typeName,
  { audience: "idgen", methods: { NextIds: { roles: ["chat"] }, DecodeId: { roles: ["chat", "operator"] } } },
]);
