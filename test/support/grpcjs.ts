import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { REPO_ROOT } from "./process.js";

/**
 * What an internal team does: load the .proto files with @grpc/proto-loader
 * and call Parley with plain @grpc/grpc-js stubs, no Parley code involved.
 */
const definition = protoLoader.loadSync(
  ["parley/account/v1/account.proto", "parley/idgen/v1/idgen.proto", "grpc/health/v1/health.proto"],
  { includeDirs: [`${REPO_ROOT}proto`], longs: String, enums: String, defaults: true, oneofs: true },
);
const loaded = grpc.loadPackageDefinition(definition) as any;

export type GrpcJsClient = grpc.Client & Record<string, any>;

export function grpcJsClient(service: "account" | "accountInternal" | "idgen" | "health", baseUrl: string): GrpcJsClient {
  const target = new URL(baseUrl).host;
  const ctor = {
    account: loaded.parley.account.v1.AccountService,
    accountInternal: loaded.parley.account.v1.AccountInternalService,
    idgen: loaded.parley.idgen.v1.IdGenService,
    health: loaded.grpc.health.v1.Health,
  }[service];
  return new ctor(target, grpc.credentials.createInsecure());
}

/** Calls a unary method and resolves with the response or rejects with the grpc-js ServiceError. */
export function unary<T = any>(client: GrpcJsClient, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}

export { grpc };
