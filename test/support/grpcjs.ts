import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { SERVICE_TOKEN_HEADER } from "@parley/runtime";
import { REPO_ROOT } from "./process.js";

/**
 * What an internal team does: load the .proto files with @grpc/proto-loader
 * and call Parley with plain @grpc/grpc-js stubs, no Parley code involved
 * beyond a service token for the metadata.
 */
const definition = protoLoader.loadSync(
  ["parley/account/v1/account.proto", "parley/idgen/v1/idgen.proto", "parley/chat/v1/chat.proto", "grpc/health/v1/health.proto"],
  { includeDirs: [`${REPO_ROOT}proto`], longs: String, enums: String, defaults: true, oneofs: true },
);
type Stub = grpc.ServiceClientConstructor;
/** Where loadPackageDefinition puts the services the tests call: one object per proto package segment. */
interface LoadedServices {
  parley: {
    account: { v1: { AccountService: Stub; AccountInternalService: Stub } };
    idgen: { v1: { IdGenService: Stub } };
    chat: { v1: { ChatService: Stub } };
  };
  grpc: { health: { v1: { Health: Stub } } };
}
const loaded = grpc.loadPackageDefinition(definition) as unknown as LoadedServices;

/** A stub built at run time from the loaded proto: one method per rpc, named as in the proto. */
export type GrpcJsClient = InstanceType<Stub>;

export interface GrpcJsAuth {
  /** The CA bundle that verifies the server (TLS); cleartext h2c when absent. */
  ca?: Buffer;
  /** Mints the service token sent on every call (a plane's token(audience)). */
  token?: () => Promise<string>;
}

export function grpcJsClient(service: "account" | "accountInternal" | "idgen" | "chat" | "health", baseUrl: string, auth: GrpcJsAuth = {}): GrpcJsClient {
  const target = new URL(baseUrl).host;
  const ctor = {
    account: loaded.parley.account.v1.AccountService,
    accountInternal: loaded.parley.account.v1.AccountInternalService,
    idgen: loaded.parley.idgen.v1.IdGenService,
    chat: loaded.parley.chat.v1.ChatService,
    health: loaded.grpc.health.v1.Health,
  }[service];
  return new ctor(target, channelCredentials(auth));
}

function channelCredentials(auth: GrpcJsAuth): grpc.ChannelCredentials {
  if (auth.ca === undefined) {
    if (auth.token) throw new Error("grpc-js sends call credentials only over TLS");
    return grpc.credentials.createInsecure();
  }
  const tls = grpc.credentials.createSsl(auth.ca);
  const token = auth.token;
  if (token === undefined) return tls;
  const perCall = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    token().then(
      (value) => {
        const metadata = new grpc.Metadata();
        metadata.set(SERVICE_TOKEN_HEADER, value);
        callback(null, metadata);
      },
      (err: Error) => callback(err),
    );
  });
  return grpc.credentials.combineChannelCredentials(tls, perCall);
}

/** Calls a unary method and resolves with the response or rejects with the grpc-js ServiceError. */
// biome-ignore lint/suspicious/noExplicitAny: responses are plain objects decoded at run time from the loaded proto (no generated types, as internal teams call it); the tests read the fields they assert
export function unary<T = any>(client: GrpcJsClient, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method]!(request, metadata, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

export { grpc };
