// The fast-mode tiled copy of a table built on the worker pool: the first fast call of projectAsync/topkAsync
// on a big table tiles it (FastHead.tiledBy: units of whole 16-row tiles, one tiling kernel call each, the
// same bytes as one thread's FastHead.of). Rows with a non-finite scale are found on the caller, once per
// table (nonFiniteOf). Concurrent calls share one build.
// FastHead.fromBytes / fromStream stay on the calling thread: they tile through a 1 MiB scratch so that memory
// holds the tiled copy alone (a Worker's 128 MB), about MIN_PARALLEL_WORK.tile per step, where a job per step
// would gain nothing; gaining would take bigger, double-buffered steps (more memory) and an async fromBytes.
import { nonFiniteOf } from "../project/project.js";
import { FastHead } from "../project/fast.js";
import type { EmbeddingTable } from "../tables/table.js";
import type { WorkerPool } from "./pool.js";
import { minParallelWork } from "./crossover.js";

// Units per computing thread: as for the projections (a slow core takes fewer).
const UNITS_PER_THREAD = 8;

const building = new WeakMap<EmbeddingTable, Promise<FastHead>>();

/** table.fastHead(), built on `pool` when the table is big enough (MIN_PARALLEL_WORK.tile) and not built yet. */
export function fastHeadAsync(table: EmbeddingTable, pool: WorkerPool): Promise<FastHead> {
  const have = table.derivedSoFar.fast;
  if (have !== undefined) return Promise.resolve(have);
  if (table.byteLength < minParallelWork("tile")) return Promise.resolve(table.fastHead());
  let job = building.get(table);
  if (job === undefined) {
    const tiles = Math.ceil(table.vocab / 16);
    const tilesPerUnit = Math.max(1, Math.ceil(tiles / (pool.size * UNITS_PER_THREAD)));
    job = FastHead.tiledBy(table, nonFiniteOf(table), tilesPerUnit, (units) => pool.run(units))
      .then((head) => table.adoptFast(head))
      .finally(() => building.delete(table));
    building.set(table, job);
  }
  return job;
}
