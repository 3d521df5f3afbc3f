import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, ScalarType, toBinary, type DescField, type DescMessage, type DescFile } from "@bufbuild/protobuf";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import { file_parley_account_v1_account } from "@parley/contracts/parley/account/v1/account";
import { file_parley_chat_v1_chat } from "@parley/contracts/parley/chat/v1/chat";
import { file_parley_chat_v1_delivery_record } from "@parley/contracts/parley/chat/v1/delivery_record";
import { ClientFrameSchema, file_parley_client_v1_client, ServerFrameSchema } from "@parley/contracts/parley/client/v1/client";
import { file_parley_discovery_v1_discovery } from "@parley/contracts/parley/discovery/v1/discovery";
import { file_parley_gateway_v1_deliver } from "@parley/contracts/parley/gateway/v1/deliver";
import { file_parley_idgen_v1_idgen } from "@parley/contracts/parley/idgen/v1/idgen";
import { file_parley_notify_v1_notify } from "@parley/contracts/parley/notify/v1/notify";
import { file_parley_presence_v1_presence } from "@parley/contracts/parley/presence/v1/presence";
import { binaryEncoder } from "../src/binary-encoder.js";
import { encodeServerFrame } from "../src/protocol.js";

const FILES: DescFile[] = [
  file_parley_client_v1_client,
  file_parley_chat_v1_chat,
  file_parley_chat_v1_delivery_record,
  file_parley_account_v1_account,
  file_parley_discovery_v1_discovery,
  file_parley_gateway_v1_deliver,
  file_parley_idgen_v1_idgen,
  file_parley_notify_v1_notify,
  file_parley_presence_v1_presence,
];

/** A deterministic generator (xorshift), so a failure repeats. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const U64 = [
  0n,
  1n,
  127n,
  128n,
  16_383n,
  16_384n,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  123318215537369089n,
  2n ** 63n,
  2n ** 64n - 1n,
];
const I64 = [...U64.filter((v) => v < 2n ** 63n), -1n, -128n, -(2n ** 53n), -(2n ** 63n)];
const U32 = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2 ** 32 - 1];
const I32 = [0, 1, -1, 127, 128, 2 ** 31 - 1, -(2 ** 31), -300];
const STRINGS = ["", "a", "hi Bob", "héllo 👋", "日本語のテキスト", "lone \ud800 surrogate", "\udc00", "end \ud83d", "x".repeat(200), "é👋".repeat(3_000)];
const DOUBLES = [0, -0, 1.5, -1e300, Number.NaN, Number.POSITIVE_INFINITY];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

function scalarValue(random: () => number, type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return pick(random, STRINGS);
    case ScalarType.BYTES:
      return Uint8Array.from({ length: pick(random, [0, 1, 5, 200]) }, (_, i) => (i * 37) & 0xff);
    case ScalarType.BOOL:
      return random() < 0.5;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick(random, U32);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return pick(random, I32);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return pick(random, U64);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return pick(random, I64);
    default:
      return pick(random, DOUBLES);
  }
}

function fieldValue(random: () => number, field: DescField, depth: number): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalarValue(random, field.scalar);
    case "enum":
      return random() < 0.1 ? 99 : pick(random, field.enum.values).number;
    case "message":
      return messageInit(random, field.message, depth + 1);
    case "list": {
      const length = random() < 0.1 ? 150 : Math.floor(random() * 4);
      return Array.from({ length }, () =>
        field.listKind === "message"
          ? messageInit(random, field.message, depth + 1)
          : field.listKind === "enum"
            ? pick(random, field.enum.values).number
            : scalarValue(random, field.scalar),
      );
    }
    case "map": {
      const record: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i--) {
        record[pick(random, STRINGS)] =
          field.mapKind === "enum" ? pick(random, field.enum.values).number : field.mapKind === "scalar" ? scalarValue(random, field.scalar) : {};
      }
      return record;
    }
  }
}

/** A message of `desc` with each field set or not at random (fewer the deeper), each oneof on a random case or none. */
function messageInit(random: () => number, desc: DescMessage, depth = 0): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  const setChance = depth > 4 ? 0.1 : 0.7;
  for (const oneof of desc.oneofs) {
    if (random() < 0.2) continue;
    const field = pick(random, oneof.fields);
    init[oneof.localName] = { case: field.localName, value: fieldValue(random, field, depth) };
  }
  for (const field of desc.fields) {
    if (field.oneof !== undefined || random() >= setChance) continue;
    init[field.localName] = fieldValue(random, field, depth);
  }
  return init;
}

function allMessages(): DescMessage[] {
  const found: DescMessage[] = [];
  const add = (desc: DescMessage) => {
    found.push(desc);
    for (const nested of desc.nestedMessages) add(nested);
  };
  for (const file of FILES) for (const desc of file.messages) add(desc);
  return found;
}

describe("binary encoder", () => {
  it("writes protobuf-es's bytes for random messages of every contract type", () => {
    const random = rng(20261130);
    let compared = 0;
    const fallbacks: string[] = [];
    for (const desc of allMessages()) {
      const encode = binaryEncoder(desc, { onFallback: (reason) => fallbacks.push(`${desc.typeName}: ${reason}`) });
      for (let i = 0; i < 60; i++) {
        const message = create(desc, messageInit(random, desc));
        assert.deepEqual(encode(message), toBinary(desc, message), `${desc.typeName}, sample ${i}`);
        compared++;
      }
    }
    assert.ok(compared > 5_000, `compared ${compared}`);
    // Every contract type compiles, and every generated value is written by the generated code.
    assert.deepEqual(fallbacks, []);
  });

  it("writes protobuf-es's bytes for many server and client frames", () => {
    const random = rng(7);
    let fallbacks = 0;
    for (const desc of [ServerFrameSchema, ClientFrameSchema] as DescMessage[]) {
      const encode = binaryEncoder(desc, { onFallback: () => fallbacks++ });
      for (let i = 0; i < 3_000; i++) {
        const message = create(desc, messageInit(random, desc));
        assert.deepEqual(encode(message), toBinary(desc, message), `${desc.typeName}, sample ${i}`);
      }
    }
    assert.equal(fallbacks, 0);
  });

  it("keeps unknown fields, last, as protobuf-es does", () => {
    const frame = create(ServerFrameSchema, { id: 5n, body: { case: "pong", value: {} } });
    frame.$unknown = [
      { no: 999, wireType: 0, data: new Uint8Array([0x96, 0x01]) },
      { no: 3, wireType: 2, data: new Uint8Array([2, 0x68, 0x69]) },
    ];
    const bytes = binaryEncoder(ServerFrameSchema)(frame);
    assert.deepEqual(bytes, toBinary(ServerFrameSchema, frame));
    assert.deepEqual([...bytes.slice(-3)], [2, 0x68, 0x69]);
  });

  it("hands a value it does not take to protobuf-es, which encodes it or refuses it the same way", () => {
    const fallbacks: string[] = [];
    const encode = binaryEncoder(ServerFrameSchema, { onFallback: (reason) => fallbacks.push(reason) });
    // A number where a uint64 belongs: protobuf-es accepts it.
    const numeric = create(ServerFrameSchema, { id: 3n });
    (numeric as unknown as { id: unknown }).id = 3;
    assert.deepEqual(encode(numeric), toBinary(ServerFrameSchema, numeric));
    // A uint32 out of range: both refuse with protobuf-es's error.
    const bad = create(ServerFrameSchema, { id: 1n, body: { case: "error", value: { code: "INTERNAL", message: "x" } } });
    const withBadField = create(ClientFrameSchema, { id: 1n });
    (withBadField as unknown as { id: unknown }).id = -5n;
    assert.throws(() => toBinary(ClientFrameSchema, withBadField));
    assert.throws(
      () => binaryEncoder(ClientFrameSchema)(withBadField),
      (err: Error) => /uint64|invalid|encode/i.test(err.message),
    );
    assert.deepEqual(encode(bad), toBinary(ServerFrameSchema, bad));
    assert.deepEqual(fallbacks, ["value"]);
  });

  it("hands a schema it does not compile to protobuf-es", () => {
    const fallbacks: string[] = [];
    const encode = binaryEncoder(StructSchema, { onFallback: (reason) => fallbacks.push(reason) });
    const struct = create(StructSchema, { fields: { a: { kind: { case: "numberValue", value: 1.5 } } } });
    assert.deepEqual(encode(struct), toBinary(StructSchema, struct));
    assert.deepEqual(fallbacks, ["schema"]);
  });

  it("fills a buffer from the given allocator to its last byte", () => {
    const random = rng(11);
    // Buffers full of garbage, as Node's pool hands them out: any byte left unwritten would show.
    const encode = binaryEncoder(ServerFrameSchema, { allocate: (size) => new Uint8Array(size).fill(0xee) });
    for (let i = 0; i < 500; i++) {
      const frame = create(ServerFrameSchema, messageInit(random, ServerFrameSchema));
      assert.deepEqual(encode(frame), toBinary(ServerFrameSchema, frame));
    }
    const short = binaryEncoder(ServerFrameSchema, { allocate: (size) => new Uint8Array(size + 1) });
    assert.throws(() => short(create(ServerFrameSchema, { id: 1n })), /wrote 2 of 3 bytes/);
  });

  it("is what encodeServerFrame writes for the proto format", () => {
    const frame = create(ServerFrameSchema, {
      id: 9n,
      body: { case: "error", value: { code: "NOT_FOUND", message: "no such conversation", retryable: false } },
    });
    assert.deepEqual(encodeServerFrame(frame, "proto"), toBinary(ServerFrameSchema, frame));
  });
});
