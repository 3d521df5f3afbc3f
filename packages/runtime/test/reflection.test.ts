import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "@parley/contracts/grpc/reflection/v1/reflection";
import { ChatService } from "@parley/contracts/parley/chat/v1/chat";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { accessPolicy } from "../src/auth/access-policy.js";
import { openInternalPlane, type InternalPlane } from "../src/auth/internal-plane.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { startServer, type RunningServer } from "../src/server.js";
import { credentialsDir, keysFor, planeSettings } from "./plane-fixtures.js";

const logger = createLogger("test", "silent");
const BUF = new URL("../../../node_modules/.bin/buf", import.meta.url).pathname;

/** Asks the reflection service the questions in order, on one stream, and collects the answers. */
async function ask(transport: Transport, questions: ServerReflectionRequest["messageRequest"][]): Promise<ServerReflectionResponse[]> {
  const client = createClient(ServerReflection, transport);
  const requests = questions.map((messageRequest) => create(ServerReflectionRequestSchema, { messageRequest }));
  const answers: ServerReflectionResponse[] = [];
  for await (const answer of client.serverReflectionInfo(
    (async function* () {
      yield* requests;
    })(),
  ))
    answers.push(answer);
  return answers;
}

function filesOf(answer: ServerReflectionResponse | undefined): string[] {
  assert.equal(answer?.messageResponse.case, "fileDescriptorResponse", JSON.stringify(answer?.messageResponse));
  const files = answer.messageResponse.value.fileDescriptorProto;
  return files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

describe("server reflection on an internal server", () => {
  const folder = credentialsDir("reflection");
  const keys = keysFor(folder.dir, ["idgen", "chat", "operator:alice"]);
  let server: RunningServer;
  let idgen: InternalPlane;
  let operator: InternalPlane;
  let chat: InternalPlane;
  let host: string;

  before(async () => {
    idgen = openInternalPlane(planeSettings(keys, "idgen"), "idgen", logger, { listenHosts: ["127.0.0.1"] });
    operator = openInternalPlane(planeSettings(keys, "operator:alice"), "operator:alice", logger, { listenHosts: ["127.0.0.1"] });
    chat = openInternalPlane(planeSettings(keys, "chat"), "chat", logger, { listenHosts: ["127.0.0.1"] });
    // Two services for two audiences, as on npm start's internal port.
    const policy = accessPolicy(
      [IdGenService.typeName, { audience: "idgen", methods: { DecodeId: { roles: ["operator"] } } }],
      [ChatService.typeName, { audience: "chat", methods: {} }],
    );
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      serviceNames: [IdGenService.typeName, ChatService.typeName],
      logger,
      metrics: new Metrics(),
      reflection: true,
      interceptors: [idgen.guard(policy)],
      routes: (router) => {
        router.service(IdGenService, { nextIds: () => ({ ids: [] }), decodeId: (req) => ({ workerId: Number(req.id % 1024n) }) });
        router.service(ChatService, {});
      },
    });
    host = new URL(server.url).host;
  });
  after(async () => {
    await server.close(100);
    for (const plane of [idgen, operator, chat]) plane.close();
    folder.cleanup();
  });

  it("lists every service on the server to an operator, health and reflection included", async () => {
    const [answer] = await ask(operator.transport(host, "idgen"), [{ case: "listServices", value: "" }]);
    assert.equal(answer?.messageResponse.case, "listServicesResponse");
    assert.deepEqual(
      answer.messageResponse.value.service.map((service) => service.name),
      ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "parley.chat.v1.ChatService", "parley.idgen.v1.IdGenService"],
    );
  });

  it("answers the file declaring a service, method, message or field, with its imports, and a file by name", async () => {
    const answers = await ask(operator.transport(host, "chat"), [
      { case: "fileContainingSymbol", value: "parley.idgen.v1.IdGenService" },
      { case: "fileContainingSymbol", value: "parley.chat.v1.ChatService.Send" },
      { case: "fileContainingSymbol", value: "parley.idgen.v1.DecodeIdResponse" },
      { case: "fileContainingSymbol", value: "parley.idgen.v1.DecodeIdResponse.worker_id" },
      { case: "fileByFilename", value: "parley/idgen/v1/idgen.proto" },
    ]);
    const idgenFiles = ["parley/idgen/v1/idgen.proto", "google/protobuf/timestamp.proto"];
    assert.deepEqual(filesOf(answers[0]), idgenFiles);
    const chatFiles = filesOf(answers[1]);
    assert.equal(chatFiles[0], "parley/chat/v1/chat.proto", "the file asked for comes first");
    assert.ok(chatFiles.length > 1, `chat.proto's imports follow: ${chatFiles.join(", ")}`);
    assert.equal(new Set(chatFiles).size, chatFiles.length, "each file once");
    for (const answer of answers.slice(2)) assert.deepEqual(filesOf(answer), idgenFiles);
    const service = fromBinary(FileDescriptorProtoSchema, (answers[0]!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto[0]!)
      .service[0];
    assert.deepEqual(
      service?.method.map((method) => method.name),
      ["NextIds", "DecodeId"],
    );
  });

  it("answers NOT_FOUND in an error response for an unknown symbol or file, and keeps the stream open", async () => {
    const answers = await ask(operator.transport(host, "idgen"), [
      { case: "fileContainingSymbol", value: "parley.idgen.v1.Nope" },
      { case: "fileByFilename", value: "nope.proto" },
      { case: "listServices", value: "" },
    ]);
    for (const answer of answers.slice(0, 2)) {
      assert.equal(answer.messageResponse.case, "errorResponse");
      assert.equal(answer.messageResponse.value.errorCode, Code.NotFound);
    }
    assert.equal(answers[2]?.messageResponse.case, "listServicesResponse");
  });

  it("refuses a caller without a service token, and a service that is not an operator", async () => {
    await assert.rejects(
      ask(createGrpcTransport({ baseUrl: server.url }), [{ case: "listServices", value: "" }]),
      (err: unknown) => ConnectError.from(err).code === Code.Unauthenticated,
    );
    await assert.rejects(
      ask(chat.transport(host, "idgen"), [{ case: "listServices", value: "" }]),
      (err: unknown) => ConnectError.from(err).code === Code.PermissionDenied,
    );
  });

  it("lets buf curl list the methods and call one through reflection with an operator's token", async () => {
    const token = await operator.token("idgen");
    const run = promisify(execFile);
    const common = ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-H", `parley-service-token: ${token}`, "--reflect-header", "*"];
    const listed = await run(BUF, [...common, "--list-methods", server.url]);
    assert.match(listed.stdout, /^parley\.idgen\.v1\.IdGenService\/DecodeId$/m);
    assert.match(listed.stdout, /^grpc\.health\.v1\.Health\/Check$/m);
    const called = await run(BUF, [...common, "-d", '{"id":"1025"}', `${server.url}/parley.idgen.v1.IdGenService/DecodeId`]);
    assert.equal(JSON.parse(called.stdout).workerId, 1);
    // buf words the server's UNAUTHENTICATED as a hint to log in to its own registry.
    await assert.rejects(run(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", server.url]), /not authenticated/);
  });
});
