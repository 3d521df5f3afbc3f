import { create, createRegistry, toBinary, type DescFile, type DescService, type MessageInitShape, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  type ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "@parley/contracts/grpc/reflection/v1/reflection";

/**
 * grpc.reflection.v1, which buf curl, grpcurl and Postman use to call a
 * server without its .proto files: the names of the services served, and
 * for a symbol or a file name the file descriptor that declares it with
 * every file it imports (each response carries them all; the protocol
 * allows resending). No Connect package implements it. `services` is read
 * at the first request, once the router is complete.
 */
export function reflectionService(services: () => readonly DescService[]): ServiceImpl<typeof ServerReflection> {
  let index: Index | undefined;
  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        index ??= new Index(services());
        yield answer(index, request);
      }
    },
  };
}

function answer(index: Index, request: ServerReflectionRequest): ServerReflectionResponse {
  const asked = request.messageRequest;
  const response = (messageResponse: NonNullable<MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]>) =>
    create(ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse });
  const notFound = (what: string) =>
    response({ case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} is not known to this server` } });
  const files = (file: DescFile | undefined, what: string) =>
    file === undefined ? notFound(what) : response({ case: "fileDescriptorResponse", value: { fileDescriptorProto: index.withImports(file) } });
  switch (asked.case) {
    case "listServices":
      return response({ case: "listServicesResponse", value: { service: index.serviceNames.map((name) => ({ name })) } });
    case "fileByFilename":
      return files(index.fileNamed(asked.value), `the file ${asked.value}`);
    case "fileContainingSymbol":
      return files(index.fileDeclaring(asked.value), `the symbol ${asked.value}`);
    case "fileContainingExtension":
      return notFound(`an extension of ${asked.value.containingType}`); // Parley's contracts declare none
    case "allExtensionNumbersOfType":
      return response({ case: "allExtensionNumbersResponse", value: { baseTypeName: asked.value, extensionNumber: [] } });
    default:
      return response({ case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "the request names no known question" } });
  }
}

/** The served services' files and their imports, by file name and by the symbols they declare. */
class Index {
  readonly serviceNames: string[];
  private readonly files = new Map<string, DescFile>();
  private readonly types: Registry;

  constructor(services: readonly DescService[]) {
    this.serviceNames = [...new Set(services.map((service) => service.typeName))].sort();
    for (const service of services) this.add(service.file);
    this.types = createRegistry(...this.files.values());
  }

  fileNamed(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /** A type's file, or for a method or field (`pkg.Service.Method`, `pkg.Message.field`) its parent's. */
  fileDeclaring(symbol: string): DescFile | undefined {
    const type = this.types.get(symbol);
    if (type !== undefined) return type.file;
    const dot = symbol.lastIndexOf(".");
    const parent = this.types.get(symbol.slice(0, dot));
    const member = symbol.slice(dot + 1);
    if (parent?.kind === "service" && parent.methods.some((method) => method.name === member)) return parent.file;
    if (parent?.kind === "message" && parent.fields.some((field) => field.name === member)) return parent.file;
    return undefined;
  }

  /** The file first, then everything it imports, directly or not, each once. */
  withImports(file: DescFile): Uint8Array[] {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const dependency of f.dependencies) visit(dependency);
    };
    visit(file);
    return [...seen].map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
  }

  private add(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const dependency of file.dependencies) this.add(dependency);
  }
}
