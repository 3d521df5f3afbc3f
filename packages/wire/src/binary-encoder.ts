/**
 * A protobuf binary encoder for the frames the gateway writes on every
 * message, producing exactly protobuf-es's bytes in about a third of the
 * time. protobuf-es walks a message through a closure per field and a
 * growing buffer whose nested lengths it patches afterwards: an inbox entry's
 * frame (four messages deep) took 7-10 µs on the benchmark machine, and a
 * message sent costs two of them and a reply (docs/performance.md). This
 * one generates, per message type, straight-line code that sizes the whole
 * message first (noting each nested message's and string's length in
 * pre-order) and then writes it once into a buffer of exactly that size.
 *
 * It compiles what proto3 contracts use: scalars of every kind but the
 * fixed-width and zigzag integers and float, enums, nested messages
 * (google.protobuf.Timestamp and Duration among the well-known types),
 * oneofs, repeated fields (packed or not), maps with string keys and scalar
 * values, and unknown fields. For any other schema, where code cannot be
 * generated (a runtime that forbids it), and for any
 * value it does not take (a number where a bigint belongs, an int32 out of
 * range), the whole message goes to protobuf-es, which encodes it or throws
 * its own error. Fields go out in field-number order, unknown fields last,
 * as protobuf-es writes them; the tests compare the two byte for byte on
 * thousands of generated messages of every contract type.
 */
import { ScalarType, toBinary, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

/** google.protobuf.FeatureSet.FieldPresence.IMPLICIT */
const IMPLICIT = 2;

/** The schema uses something this encoder does not write (found when compiling). */
class Unsupported extends Error {}
/** A value this encoder does not take: protobuf-es decides. One instance, so throwing captures no stack. */
const REFUSED = new Error("value refused by the fast encoder");

/** The lengths noted while sizing (`l`), and the next one to write (`i`). */
interface Lengths {
  l: number[];
  i: number;
}
type SizeFn = (message: unknown, lengths: Lengths) => number;
type WriteFn = (message: unknown, buf: Uint8Array, pos: number, lengths: Lengths) => number;

export interface BinaryEncoderOptions {
  /** Told each time protobuf-es encodes instead: for the whole schema (once, when compiling), or for one message's values. */
  onFallback?: (reason: "schema" | "value") => void;
  /**
   * The buffer of exactly `size` bytes a message is written into (default
   * a new Uint8Array). It may hold old bytes (Node's Buffer.allocUnsafe):
   * every byte is written, and a write that ends short of the size throws.
   */
  allocate?: (size: number) => Uint8Array;
}

/**
 * An encoder for messages of `schema`. Falls back to protobuf-es's toBinary
 * for a schema or a value it does not handle, so it never encodes
 * differently, only faster.
 */
export function binaryEncoder<Desc extends DescMessage>(schema: Desc, options: BinaryEncoderOptions = {}): (message: MessageShape<Desc>) => Uint8Array {
  const onFallback = options.onFallback ?? (() => {});
  const allocate = options.allocate ?? ((size: number) => new Uint8Array(size));
  let size: SizeFn;
  let write: WriteFn;
  try {
    [size, write] = generate(schema);
  } catch (err) {
    if (!(err instanceof Unsupported) && !(err instanceof EvalError)) throw err;
    onFallback("schema");
    return (message) => toBinary(schema, message);
  }
  return (message) => {
    const lengths: Lengths = { l: [], i: 0 };
    let buf: Uint8Array;
    let end: number;
    try {
      buf = allocate(size(message, lengths));
      end = write(message, buf, 0, lengths);
    } catch (err) {
      if (err !== REFUSED && !(err instanceof TypeError)) throw err;
      onFallback("value");
      return toBinary(schema, message);
    }
    // Never reached unless sizing and writing disagree; then the buffer's tail would be whatever it held before.
    if (end !== buf.length) throw new Error(`${schema.typeName}: wrote ${end} of ${buf.length} bytes`);
    return buf;
  };
}

/** The size and write functions of `root` and of every message type it reaches, as generated code. */
function generate(root: DescMessage): [SizeFn, WriteFn] {
  const index = new Map<DescMessage, number>();
  const queue: DescMessage[] = [];
  const indexOf = (desc: DescMessage): number => {
    let i = index.get(desc);
    if (i === undefined) {
      if (desc.typeName.startsWith("google.protobuf.") && desc.typeName !== "google.protobuf.Timestamp" && desc.typeName !== "google.protobuf.Duration") {
        throw new Unsupported(`${desc.typeName} has a special local form`);
      }
      i = queue.push(desc) - 1;
      index.set(desc, i);
    }
    return i;
  };
  indexOf(root);
  let source = "";
  for (let k = 0; k < queue.length; k++) source += messageSource(queue[k]!, k, indexOf);
  const sizes: SizeFn[] = [];
  const writes: WriteFn[] = [];
  new Function("H", "S", "W", source)(HELPERS, sizes, writes);
  return [sizes[0]!, writes[0]!];
}

function messageSource(desc: DescMessage, k: number, indexOf: (desc: DescMessage) => number): string {
  let size = "";
  let write = "";
  for (const field of [...desc.fields].sort((a, b) => a.number - b.number)) {
    const [s, w] = fieldSource(field, indexOf);
    size += s;
    write += w;
  }
  return `S[${k}] = function (m, c) { let s = 0;\n${size}
  const u = m.$unknown; if (u !== undefined) for (let i = 0; i < u.length; i++) s += H.v32(H.tag(u[i].no, u[i].wireType)) + u[i].data.length;
  return s; };
W[${k}] = function (m, b, p, c) {\n${write}
  const u = m.$unknown; if (u !== undefined) for (let i = 0; i < u.length; i++) { p = H.put32(b, p, H.tag(u[i].no, u[i].wireType)); b.set(u[i].data, p); p += u[i].data.length; }
  return p; };\n`;
}

/** What a field adds to its message's size and write functions. */
function fieldSource(field: DescField, indexOf: (desc: DescMessage) => number): [string, string] {
  const name = JSON.stringify(field.localName);
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
    case "message": {
      if (field.fieldKind === "message" && field.delimitedEncoding) throw new Unsupported(`${field} is group-encoded`);
      const value = valueSource(field, field.fieldKind === "message" ? { message: indexOf(field.message) } : kindOf(field), "v", field.number, "s");
      if (field.oneof !== undefined) {
        const test = `{ const o = m[${JSON.stringify(field.oneof.localName)}]; if (o.case === ${name}) { const v = o.value;`;
        return [`${test} ${value.size} } }\n`, `${test} ${value.write} } }\n`];
      }
      const test =
        field.presence !== IMPLICIT
          ? `v !== undefined && H.hasOwn(m, ${name})`
          : field.fieldKind === "enum"
            ? `v !== ${field.enum.values[0]?.number ?? 0}`
            : nonZero(field.scalar!);
      return [`{ const v = m[${name}]; if (${test}) { ${value.size} } }\n`, `{ const v = m[${name}]; if (${test}) { ${value.write} } }\n`];
    }
    case "list": {
      if (field.listKind === "message" && field.delimitedEncoding) throw new Unsupported(`${field} is group-encoded`);
      const kind = field.listKind === "message" ? { message: indexOf(field.message) } : field.listKind === "enum" ? "enum" : kindOf(field);
      if (field.packed) {
        const item = valueSource(field, kind, "v", 0, "t");
        const tag = tagSource(field.number, 2);
        return [
          `{ const a = m[${name}]; if (a.length > 0) { const k = c.l.length; c.l.push(0); let t = 0; for (let i = 0; i < a.length; i++) { const v = a[i]; ${item.size} } c.l[k] = t; s += ${tag.size} + H.v32(t) + t; } }\n`,
          `{ const a = m[${name}]; if (a.length > 0) { ${tag.write} p = H.put32(b, p, c.l[c.i++]); for (let i = 0; i < a.length; i++) { const v = a[i]; ${item.write} } } }\n`,
        ];
      }
      const item = valueSource(field, kind, "v", field.number, "s");
      return [
        `{ const a = m[${name}]; for (let i = 0; i < a.length; i++) { const v = a[i]; ${item.size} } }\n`,
        `{ const a = m[${name}]; for (let i = 0; i < a.length; i++) { const v = a[i]; ${item.write} } }\n`,
      ];
    }
    case "map": {
      if (field.mapKey !== ScalarType.STRING) throw new Unsupported(`${field} has keys other than strings`);
      if (field.mapKind === "message") throw new Unsupported(`${field} has message values`);
      const key = valueSource(field, ScalarType.STRING, "key", 1, "t");
      const value = valueSource(field, field.mapKind === "enum" ? "enum" : kindOf(field), "v", 2, "t");
      const tag = tagSource(field.number, 2);
      const loop = `const r = m[${name}]; const keys = Object.keys(r); for (let i = 0; i < keys.length; i++) { const key = keys[i]; const v = r[key];`;
      return [
        `{ ${loop} const k = c.l.length; c.l.push(0); let t = 0; ${key.size} ${value.size} c.l[k] = t; s += ${tag.size} + H.v32(t) + t; } }\n`,
        `{ ${loop} ${tag.write} p = H.put32(b, p, c.l[c.i++]); ${key.write} ${value.write} } }\n`,
      ];
    }
  }
}

type Kind = ScalarType | "enum" | { message: number };

function kindOf(field: DescField): Kind {
  return field.fieldKind === "enum" ? "enum" : (field as { scalar: ScalarType }).scalar;
}

/** protobuf-es's test for an implicit-presence scalar being set. */
function nonZero(type: ScalarType): string {
  switch (type) {
    case ScalarType.STRING:
      return `v !== ""`;
    case ScalarType.BOOL:
      return "v !== false";
    case ScalarType.BYTES:
      return "(!(v instanceof Uint8Array) || v.length > 0)";
    case ScalarType.DOUBLE:
      return "!Object.is(v, 0)";
    default:
      return "v != 0"; // loose, as protobuf-es: 0, 0n and "0"
  }
}

/**
 * One value `v` with its tag (none when `fieldNo` is 0: a packed item):
 * `size` adds its bytes to `into` (checking its kind, else H.R() hands the
 * message to protobuf-es), `write` puts them at `p`.
 */
function valueSource(field: DescField, kind: Kind, v: string, fieldNo: number, into: string): { size: string; write: string } {
  const wire = typeof kind === "object" || kind === ScalarType.STRING || kind === ScalarType.BYTES ? 2 : kind === ScalarType.DOUBLE ? 1 : 0;
  const tag = fieldNo === 0 ? { size: "0", write: "" } : tagSource(fieldNo, wire);
  if (typeof kind === "object") {
    return {
      size: `{ const k = c.l.length; c.l.push(0); const n = S[${kind.message}](${v}, c); c.l[k] = n; ${into} += ${tag.size} + H.v32(n) + n; }`,
      write: `${tag.write} p = H.put32(b, p, c.l[c.i++]); p = W[${kind.message}](${v}, b, p, c);`,
    };
  }
  switch (kind) {
    case ScalarType.STRING:
      return {
        size: `if (typeof ${v} !== "string") H.R(); { const n = H.utf8Length(${v}); c.l.push(n); ${into} += ${tag.size} + H.v32(n) + n; }`,
        write: `${tag.write} { const n = c.l[c.i++]; p = H.put32(b, p, n); p = H.putUtf8(b, p, ${v}, n); }`,
      };
    case ScalarType.BYTES:
      return {
        size: `if (!(${v} instanceof Uint8Array)) H.R(); ${into} += ${tag.size} + H.v32(${v}.length) + ${v}.length;`,
        write: `${tag.write} p = H.put32(b, p, ${v}.length); b.set(${v}, p); p += ${v}.length;`,
      };
    case ScalarType.BOOL:
      return { size: `if (typeof ${v} !== "boolean") H.R(); ${into} += ${tag.size} + 1;`, write: `${tag.write} b[p++] = ${v} ? 1 : 0;` };
    case ScalarType.UINT32:
      return {
        size: `if (typeof ${v} !== "number" || ${v} >>> 0 !== ${v}) H.R(); ${into} += ${tag.size} + H.v32(${v});`,
        write: `${tag.write} p = H.put32(b, p, ${v});`,
      };
    case "enum":
    case ScalarType.INT32:
      return {
        // A negative int32 is sign-extended to ten bytes.
        size: `if (typeof ${v} !== "number" || (${v} | 0) !== ${v}) H.R(); ${into} += ${tag.size} + (${v} < 0 ? 10 : H.v32(${v}));`,
        write: `${tag.write} p = ${v} < 0 ? H.put64(b, p, BigInt(${v})) : H.put32(b, p, ${v});`,
      };
    case ScalarType.UINT64:
      return {
        size: `if (typeof ${v} !== "bigint" || ${v} < 0n || ${v} > 18446744073709551615n) H.R(); ${into} += ${tag.size} + H.size64(${v});`,
        write: `${tag.write} p = H.put64(b, p, ${v});`,
      };
    case ScalarType.INT64:
      return {
        size: `if (typeof ${v} !== "bigint" || ${v} < -9223372036854775808n || ${v} > 9223372036854775807n) H.R(); ${into} += ${tag.size} + H.size64(${v});`,
        write: `${tag.write} p = H.put64(b, p, ${v});`,
      };
    case ScalarType.DOUBLE:
      return { size: `if (typeof ${v} !== "number") H.R(); ${into} += ${tag.size} + 8;`, write: `${tag.write} p = H.putDouble(b, p, ${v});` };
    default:
      throw new Unsupported(`${field} is a ${ScalarType[kind]}`);
  }
}

/** A tag's size, and the statements writing its bytes (constants, worked out here). */
function tagSource(fieldNo: number, wireType: number): { size: string; write: string } {
  const bytes: number[] = [];
  let tag = tagOf(fieldNo, wireType);
  while (tag > 0x7f) {
    bytes.push((tag & 0x7f) | 0x80);
    tag >>>= 7;
  }
  bytes.push(tag);
  return { size: String(bytes.length), write: bytes.map((byte) => `b[p++] = ${byte};`).join(" ") };
}

function tagOf(fieldNo: number, wireType: number): number {
  return ((fieldNo << 3) | wireType) >>> 0;
}

// A 64-bit integer's words, read without bigint arithmetic (which would allocate).
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);
const MAX_EXACT = 0x1fffffffffffffn;

/** The generated code's runtime. */
const HELPERS = {
  R(): never {
    throw REFUSED;
  },
  hasOwn: Object.hasOwn,
  tag: tagOf,
  v32(n: number): number {
    return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
  },
  put32(b: Uint8Array, p: number, n: number): number {
    while (n > 0x7f) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
    return p;
  },
  /** A 64-bit varint's size: below 2^53 with exact double arithmetic, above (or negative, as two's complement) from its high word. */
  size64(v: bigint): number {
    if (v >= 0n && v <= MAX_EXACT) {
      let n = Number(v);
      let size = 1;
      while (n >= 0x80) {
        n = Math.floor(n / 0x80);
        size++;
      }
      return size;
    }
    setWords(v);
    // 32 bits of the low word take 5 septets (35 bits), so the high word's bits start within the fifth byte.
    let size = 5;
    for (let rest = scratch.getUint32(4, true) >>> 3; rest > 0; rest >>>= 7) size++;
    return size;
  },
  put64(b: Uint8Array, p: number, v: bigint): number {
    if (v >= 0n && v <= MAX_EXACT) {
      let n = Number(v);
      while (n >= 0x80) {
        b[p++] = (n % 0x80) | 0x80;
        n = Math.floor(n / 0x80);
      }
      b[p++] = n;
      return p;
    }
    setWords(v);
    let lo = scratch.getUint32(0, true);
    let hi = scratch.getUint32(4, true);
    for (let i = 0; i < 4; i++) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    // The fifth septet: the low word's last 4 bits and the high word's first 3.
    const septet = (lo & 0x0f) | ((hi & 0x07) << 4);
    hi >>>= 3;
    if (hi === 0) {
      b[p++] = septet;
      return p;
    }
    b[p++] = septet | 0x80;
    while (hi > 0x7f) {
      b[p++] = (hi & 0x7f) | 0x80;
      hi >>>= 7;
    }
    b[p++] = hi;
    return p;
  },
  putDouble(b: Uint8Array, p: number, v: number): number {
    scratch.setFloat64(0, v, true);
    b.set(scratchBytes, p);
    return p + 8;
  },
  /** UTF-8 length as TextEncoder writes it: a lone surrogate becomes U+FFFD (3 bytes). */
  utf8Length(s: string): number {
    let length = s.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) continue;
      if (c < 0x800) length += 1;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
        length += 2; // two UTF-16 units, four bytes
        i++;
      } else length += 2;
    }
    return length;
  },
  putUtf8(b: Uint8Array, p: number, s: string, length: number): number {
    if (length === s.length) {
      // ASCII: one byte per unit.
      for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
      return p;
    }
    return p + encoder.encodeInto(s, b.subarray(p, p + length)).written;
  },
};

const encoder = new TextEncoder();

/** The value's two's complement words into scratch: a uint64 above the int64 range as unsigned, the rest as signed. */
function setWords(v: bigint): void {
  if (v > 0x7fffffffffffffffn) scratch.setBigUint64(0, v, true);
  else scratch.setBigInt64(0, v, true);
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
