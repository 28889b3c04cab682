// Test helpers of the serve module: a wheelhouse folder on disk from built distributions.
import { join } from "node:path";
import type { BuiltDist } from "../tests/wheel_factory.ts";

/** A wheelhouse folder written for a test. */
export interface TestWheelhouse {
  dir: string;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/**
 * Writes `dists` into a new temp folder with a wheelhouse `manifest.json` listing them.
 *
 * @param dists The files (listed and written).
 * @param options `unlisted` files written but not listed; `requiresPython` per file name.
 */
export async function makeWheelhouse(
  dists: readonly BuiltDist[],
  options: { unlisted?: readonly BuiltDist[]; requiresPython?: Record<string, string> } = {},
): Promise<TestWheelhouse> {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-serve-" });
  for (const d of [...dists, ...(options.unlisted ?? [])]) {
    await Deno.writeFile(join(dir, d.filename), d.bytes);
  }
  const files = dists.map((d) => ({
    filename: d.filename,
    project: d.name.toLowerCase().replace(/[-_.]+/g, "-"),
    sha256: d.sha256,
    size: d.bytes.length,
    url: `https://example.invalid/${d.filename}`,
    targets: [],
    ...(options.requiresPython?.[d.filename] ?? d.requiresPython
      ? { requiresPython: options.requiresPython?.[d.filename] ?? d.requiresPython }
      : {}),
  }));
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({ version: 1, generator: "wheelhouse", files }, null, 2),
  );
  return { dir, remove: () => Deno.remove(dir, { recursive: true }) };
}
