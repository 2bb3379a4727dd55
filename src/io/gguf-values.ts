// GGUF metadata value types: id, name, bytes, how to read and write one, and the typed array for arrays
// of them. `size` is the fewest bytes one value can take (a string's length field, an array's header),
// which is what lets the reader check a count against the bytes left before allocating.
// see: ggml docs/gguf.md, `enum gguf_type`.

export type MetadataValue =
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | boolean[]
  | string[]
  | MetadataValue[];

type TypedArrayCtor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

export interface ValueType {
  id: number;
  name: string;
  size: number;
  get: (v: DataView, at: number) => number | bigint | boolean;
  set: (v: DataView, at: number, x: number | bigint | boolean) => void;
  array?: TypedArrayCtor;
}

const big = (x: bigint): number | bigint => (x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x);

export const VALUE_TYPES: readonly ValueType[] = [
  { id: 0, name: "u8", size: 1, get: (v, a) => v.getUint8(a), set: (v, a, x) => v.setUint8(a, Number(x)), array: Uint8Array },
  { id: 1, name: "i8", size: 1, get: (v, a) => v.getInt8(a), set: (v, a, x) => v.setInt8(a, Number(x)), array: Int8Array },
  { id: 2, name: "u16", size: 2, get: (v, a) => v.getUint16(a, true), set: (v, a, x) => v.setUint16(a, Number(x), true), array: Uint16Array },
  { id: 3, name: "i16", size: 2, get: (v, a) => v.getInt16(a, true), set: (v, a, x) => v.setInt16(a, Number(x), true), array: Int16Array },
  { id: 4, name: "u32", size: 4, get: (v, a) => v.getUint32(a, true), set: (v, a, x) => v.setUint32(a, Number(x), true), array: Uint32Array },
  { id: 5, name: "i32", size: 4, get: (v, a) => v.getInt32(a, true), set: (v, a, x) => v.setInt32(a, Number(x), true), array: Int32Array },
  { id: 6, name: "f32", size: 4, get: (v, a) => v.getFloat32(a, true), set: (v, a, x) => v.setFloat32(a, Number(x), true), array: Float32Array },
  { id: 7, name: "bool", size: 1, get: (v, a) => v.getUint8(a) !== 0, set: (v, a, x) => v.setUint8(a, x ? 1 : 0) },
  { id: 8, name: "string", size: 8, get: () => 0, set: () => {} },
  { id: 9, name: "array", size: 12, get: () => 0, set: () => {} },
  { id: 10, name: "u64", size: 8, get: (v, a) => big(v.getBigUint64(a, true)), set: (v, a, x) => v.setBigUint64(a, BigInt(x), true), array: BigUint64Array as unknown as TypedArrayCtor },
  { id: 11, name: "i64", size: 8, get: (v, a) => big(v.getBigInt64(a, true)), set: (v, a, x) => v.setBigInt64(a, BigInt(x), true), array: BigInt64Array as unknown as TypedArrayCtor },
  { id: 12, name: "f64", size: 8, get: (v, a) => v.getFloat64(a, true), set: (v, a, x) => v.setFloat64(a, Number(x), true), array: Float64Array },
];

export const VALUE_TYPE_BY_NAME: Readonly<Record<string, ValueType>> = Object.fromEntries(VALUE_TYPES.map((t) => [t.name, t]));
