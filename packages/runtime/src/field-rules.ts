import { ScalarType, type DescField, type DescMessage, type DescService, type Message } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";

/** A request field that breaks a rule every Parley request shares; `field` is its path (settings.email, member_ids[2]). */
export interface FieldProblem {
  field: string;
  rule: string;
}

/** The largest id, seq or count a 64-bit field may carry: ids are stored as SQL bigint (int8), which is signed. */
export const MAX_ID = 2n ** 63n - 1n;

const SIXTY_FOUR_BIT: ReadonlySet<ScalarType> = new Set([ScalarType.UINT64, ScalarType.INT64, ScalarType.FIXED64, ScalarType.SFIXED64, ScalarType.SINT64]);
const TOO_BIG = `must be at most ${MAX_ID} (2^63 - 1)`;
const NUL = "must not contain the NUL character (U+0000)";

/**
 * The rules that hold for every field of every request, whatever the
 * service, checked before a request reaches the domain so that no store is
 * asked for what it cannot hold: a 64-bit integer must fit in SQL bigint
 * (at most 2^63 - 1; ids, seqs and cursors are never larger), and text must
 * not contain U+0000 (SQL text cannot store it). The domain checks each
 * field's own rules (required, lengths) afterwards. Returns the first
 * problem, in field order, nested messages, lists and maps included.
 */
export function firstFieldProblem(schema: DescMessage, message: Message, path = ""): FieldProblem | undefined {
  const fields = message as unknown as Record<string, unknown>;
  for (const field of schema.fields) {
    const value = field.oneof ? oneofValue(fields[field.oneof.localName], field) : fields[field.localName];
    if (value === undefined) continue;
    const name = path + field.name;
    const problem = checkValue(field, value, name);
    if (problem) return problem;
  }
  return undefined;
}

function checkValue(field: DescField, value: unknown, name: string): FieldProblem | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalarProblem(field.scalar, value, name);
    case "message":
      return messageProblem(field.message, value, name);
    case "list": {
      const items = value as readonly unknown[];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const problem =
          field.listKind === "scalar"
            ? scalarProblem(field.scalar, item, `${name}[${i}]`)
            : field.listKind === "message"
              ? messageProblem(field.message, item, `${name}[${i}]`)
              : undefined;
        if (problem) return problem;
      }
      return undefined;
    }
    case "map":
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const entry = `${name}[${JSON.stringify(key)}]`;
        const problem =
          (key.includes("\u0000") ? { field: `${name} key`, rule: NUL } : undefined) ??
          (field.mapKind === "scalar"
            ? scalarProblem(field.scalar, item, entry)
            : field.mapKind === "message"
              ? messageProblem(field.message, item, entry)
              : undefined);
        if (problem) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

function scalarProblem(type: ScalarType, value: unknown, name: string): FieldProblem | undefined {
  if (type === ScalarType.STRING && typeof value === "string" && value.includes("\u0000")) return { field: name, rule: NUL };
  if (SIXTY_FOUR_BIT.has(type) && typeof value === "bigint" && value > MAX_ID) return { field: name, rule: TOO_BIG };
  return undefined;
}

function messageProblem(schema: DescMessage, value: unknown, name: string): FieldProblem | undefined {
  // Well-known wrapper types arrive unboxed (a plain string or number), not as messages.
  return typeof value === "object" && value !== null ? firstFieldProblem(schema, value as Message, `${name}.`) : undefined;
}

function oneofValue(group: unknown, field: DescField): unknown {
  const selected = group as { case?: string; value?: unknown } | undefined;
  return selected?.case === field.localName ? selected.value : undefined;
}

/**
 * The service's handlers with firstFieldProblem checked on every request
 * first: a problem is thrown as the error `refuse` makes (the service's own
 * invalid-input error). Unary and server-streaming methods; client and
 * bidirectional streams carry their own per-message checks.
 */
export function withFieldChecks<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  refuse: (problem: FieldProblem) => Error,
): Partial<ServiceImpl<S>> {
  const handlers = impl as Record<string, ((req: Message, ctx: HandlerContext) => unknown) | undefined>;
  const checked: Record<string, unknown> = { ...handlers };
  for (const method of service.methods) {
    const handler = handlers[method.localName];
    if (handler === undefined) continue;
    const check = (req: Message) => {
      const problem = firstFieldProblem(method.input, req);
      if (problem) throw refuse(problem);
    };
    if (method.methodKind === "unary") {
      checked[method.localName] = async (req: Message, ctx: HandlerContext) => {
        check(req);
        return handler(req, ctx);
      };
    } else if (method.methodKind === "server_streaming") {
      checked[method.localName] = async function* (req: Message, ctx: HandlerContext) {
        check(req);
        yield* handler(req, ctx) as AsyncIterable<unknown>;
      };
    }
  }
  return checked as Partial<ServiceImpl<S>>;
}
