// The generated corpus, available on every machine: 200 small projects with two versions each
// and a deep dependency graph (a chain through all of them, so discovery is 200 levels deep for a
// resolver that walks it breadth-first, plus a binary tree of fan-out), and big single wheels for
// the memory scenario.

import { join } from "node:path";
import { buildWheel } from "../tests/wheel_factory.ts";
import type { ServedFile } from "../tests/index_server.ts";

/** Name of generated project `i`. */
export function corpusName(i: number): string {
  return `bench-p${String(i).padStart(3, "0")}`;
}

/**
 * Builds `count` projects `bench-p000…`, each in versions 1.0 and 1.1 (about 2 KB each). Project
 * `i` needs `i+1` (the chain) and `2i+1`, `2i+2` (the tree), all with `>=1.0`.
 */
export async function generatedCorpus(count = 200): Promise<ServedFile[]> {
  const out: ServedFile[] = [];
  for (let i = 0; i < count; i++) {
    const deps = [i + 1, 2 * i + 1, 2 * i + 2].filter((j, k, all) =>
      j < count && all.indexOf(j) === k
    )
      .map((j) => `${corpusName(j)}>=1.0`);
    for (const version of ["1.0", "1.1"]) {
      const w = await buildWheel({
        name: corpusName(i),
        version,
        requiresDist: deps,
        requiresPython: ">=3.8",
        padding: 2048,
      });
      out.push({
        filename: w.filename,
        bytes: w.bytes,
        sha256: w.sha256,
        metadata: w.metadata,
        requiresPython: ">=3.8",
      });
    }
  }
  return out;
}

/** Writes a wheel of about `bytes` bytes (incompressible padding) into `dir`; returns its name. */
export async function writeBigWheel(dir: string, name: string, bytes: number): Promise<string> {
  const w = await buildWheel({ name, version: "1.0", padding: bytes });
  await Deno.writeFile(join(dir, w.filename), w.bytes);
  return w.filename;
}
