// A minimal ONNX model for the projection peer, written by hand: Y[N, V] = Gemm(A[N, D], B[V, D], transB=1).
// B is an initializer stored as external data (tables past 2 GB cannot sit inside one protobuf message).
// see: onnx/onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto field numbers).

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (field, wire) => varint((field << 3) | wire);
const int = (field, n) => [...key(field, 0), ...varint(n)];
const bytes = (field, data) => [...key(field, 2), ...varint(data.length), ...data];
const str = (field, s) => bytes(field, [...new TextEncoder().encode(s)]);
const msg = (field, ...parts) => bytes(field, parts.flat());

// ValueInfoProto: name, TensorTypeProto{elem_type FLOAT, shape}; a dim given as a string is symbolic (dim_param)
const valueInfo = (field, name, dims) =>
  msg(field, str(1, name), msg(2, msg(1, int(1, 1), msg(2, ...dims.map((d) => msg(1, typeof d === "string" ? str(2, d) : int(1, d)))))));

/** Model bytes; the table's f32 bytes go in `externalData` under the name `location`. `n` may be a name ("N"):
 * one session then takes any number of hidden vectors. */
export function gemmModel({ n, vocab, dim, location = "table.bin" }) {
  const node = msg(1, str(1, "A"), str(1, "B"), str(2, "Y"), str(4, "Gemm"), msg(5, str(1, "transB"), int(3, 1), int(20, 2)));
  const entry = (k, v) => msg(13, str(1, k), str(2, v));
  const initializer = msg(
    5,
    int(1, vocab),
    int(1, dim),
    int(2, 1),
    str(8, "B"),
    entry("location", location),
    entry("offset", "0"),
    entry("length", String(vocab * dim * 4)),
    int(14, 1),
  );
  const graph = msg(7, node, str(2, "projection"), initializer, valueInfo(11, "A", [n, dim]), valueInfo(12, "Y", [n, vocab]));
  return new Uint8Array([...int(1, 8), ...msg(8, str(1, ""), int(2, 13)), ...graph]);
}
