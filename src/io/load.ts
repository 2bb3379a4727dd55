// A table's bytes copied from a source into linear memory in chunks: the table is allocated first, then
// each chunk read is copied to its place, so no second full copy of the table ever exists in JS.
import type { Format } from "../formats/registry.js";
import type { Runtime } from "../core/runtime.js";
import { EmbeddingTable } from "../tables/table.js";
import type { ByteSource } from "./source.js";

const CHUNK = 4 << 20;

export async function loadTableFromSource(
  rt: Runtime,
  source: ByteSource,
  offset: number,
  shape: { vocab: number; dim: number; format: Format },
  label: string,
): Promise<EmbeddingTable> {
  const table = EmbeddingTable.allocate(rt, shape);
  try {
    const total = table.byteLength;
    for (let done = 0; done < total; done += CHUNK) {
      const n = Math.min(CHUNK, total - done);
      const bytes = await source.read(offset + done, n);
      // the view is fetched after the await: a concurrent allocation may have grown (detached) memory
      rt.memory.u8().set(bytes, table.ptr + done);
    }
  } catch (e) {
    table.dispose();
    if (e instanceof Error) e.message = `Loading ${label}: ${e.message}`;
    throw e;
  }
  return table;
}
