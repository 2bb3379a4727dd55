// The memory floor of a head: the time to read its packed bytes once, front to back, with nothing else to do.
// Two floors, both built at bench time outside the repository's build: in WebAssembly (floor/stream.ts, compiled
// by asc into a temporary directory; the same engine and memory as bitembed's kernels) and native
// (floor/stream.c, gcc -O3 -march=native). A kernel's time divided by the floor says how close it is to the
// memory bound; either floor is undefined (with a note) when its compiler is missing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("floor/", import.meta.url));
const asc = fileURLToPath(new URL("../node_modules/.bin/asc", import.meta.url));

/** Compile the floors once; `notes` collects why one is missing. dispose() removes the temporary files. */
export async function buildFloors(notes) {
  const dir = mkdtempSync(join(tmpdir(), "bitembed-floor-"));
  let wasm;
  let native;
  // the compute floor (floor/idot.ts), baseline and relaxed builds
  const idot = {};
  for (const relaxed of [false, true]) {
    try {
      const out = join(dir, `idot${relaxed ? ".relaxed" : ""}.wasm`);
      const features = ["--enable", "simd", ...(relaxed ? ["--enable", "relaxed-simd"] : [])];
      execFileSync(asc, [join(here, "idot.ts"), "-o", out, "-O3", "--runtime", "stub", "--use", "abort=", "--noAssert", ...features], { cwd: dir, stdio: "pipe" });
      idot[relaxed ? "relaxed" : "baseline"] = (await WebAssembly.instantiate(readFileSync(out))).instance.exports;
    } catch (e) {
      notes.add(`compute floor${relaxed ? " (relaxed SIMD)" : ""} unavailable: ${String(e.message ?? e).slice(0, 160)}`);
    }
  }
  try {
    const out = join(dir, "stream.wasm");
    // cwd: the temporary directory, so asc does not pick up the repository's asconfig.json
    execFileSync(asc, [join(here, "stream.ts"), "-o", out, "-O3", "--runtime", "stub", "--use", "abort=", "--noAssert", "--enable", "simd"], { cwd: dir, stdio: "pipe" });
    wasm = (await WebAssembly.instantiate(readFileSync(out))).instance.exports;
  } catch (e) {
    notes.add(`wasm floor unavailable: ${String(e.message ?? e).slice(0, 160)}`);
  }
  try {
    native = join(dir, "stream");
    execFileSync("gcc", ["-O3", "-march=native", "-o", native, join(here, "stream.c")], { stdio: "pipe" });
  } catch (e) {
    native = undefined;
    notes.add(`native floor unavailable (gcc): ${String(e.message ?? e).slice(0, 160)}`);
  }
  return {
    /** Put a table's bytes in place for both floors; returns { wasm(), native(reps) } timing one pass each. */
    load(bytes) {
      let ptr = 0;
      if (wasm) {
        const need = bytes.length + 64 + 16;
        const have = wasm.memory.buffer.byteLength;
        if (have < need) wasm.memory.grow(Math.ceil((need - have) / 65536));
        ptr = 16; // past address 0, 16-aligned; the tail up to a multiple of 64 stays zero
        new Uint8Array(wasm.memory.buffer).fill(0, ptr + bytes.length, ptr + bytes.length + 64);
        new Uint8Array(wasm.memory.buffer).set(bytes, ptr);
      }
      const file = join(dir, "table.bin");
      if (native) writeFileSync(file, bytes);
      const padded = (bytes.length + 63) & ~63;
      return {
        /** One timed wasm pass in ms, or undefined. */
        wasm: wasm
          ? () => {
              const t = performance.now();
              wasm.stream(ptr, padded);
              return performance.now() - t;
            }
          : undefined,
        /** Median ms of `reps` native passes (one process, after one untimed pass), or undefined. */
        native: native
          ? (reps) => {
              try {
                return JSON.parse(execFileSync(native, [file, String(reps)], { encoding: "utf8" }).trim()).median_ms;
              } catch (e) {
                notes.add(`native floor failed: ${String(e.message ?? e).slice(0, 160)}`);
                return undefined;
              }
            }
          : undefined,
      };
    },
    /**
     * The compute floor (floor/idot.ts) of a `vocab` x `dim` head and one activation vector: { baseline(),
     * relaxed() }, each timing one pass in ms (where its build compiled). Every row is the same `dim` bytes.
     */
    idot(vocab, dim) {
      const timers = {};
      for (const [name, k] of Object.entries(idot)) {
        const weights = 64;
        const x = weights + dim;
        const out = x + dim;
        const need = out + vocab * 4;
        const have = k.memory.buffer.byteLength;
        if (have < need) k.memory.grow(Math.ceil((need - have) / 65536));
        const u8 = new Uint8Array(k.memory.buffer);
        for (let i = weights; i < out; i++) u8[i] = (i * 2654435761) >>> 25; // 0..127: the i7 operand's range
        timers[name] = () => {
          const t = performance.now();
          k.idot(weights, 0, vocab, dim, x, out);
          return performance.now() - t;
        };
      }
      return timers;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
