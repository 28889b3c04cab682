/**
 * Builds the small example index shipped in `examples/index/`: real wheels and sdists of a few
 * made-up projects with the shapes real projects have — a pure-Python app with extras and
 * dependency markers, a compiled extension with wheels per Python and platform, a Windows-only
 * dependency, and an sdist-only project. `npm start` serves it on 127.0.0.1 and downloads from it.
 *
 * Run `deno run -A examples/build_index.ts` to rebuild it (the archives are reproducible: fixed
 * timestamps, so a rebuild changes nothing).
 *
 * @module
 */
import { join } from "node:path";
import { buildSdist, buildWheel, type DistSpec } from "../tests/wheel_factory.ts";

const PYTHONS = ["cp311", "cp312", "cp313"];
const PLATFORMS = ["manylinux_2_17_x86_64.manylinux2014_x86_64", "macosx_11_0_arm64", "win_amd64"];

/** The projects of the example index, as wheel factory specs. */
export function exampleSpecs(): { wheels: DistSpec[]; sdists: DistSpec[] } {
  const wheels: DistSpec[] = [];
  const sdists: DistSpec[] = [];
  for (const version of ["1.0.0", "1.1.0"]) {
    const app: DistSpec = {
      name: "example-app",
      version,
      requiresPython: ">=3.9",
      providesExtra: ["fast"],
      requiresDist: [
        "example-http>=2.0",
        "example-color>=0.4; sys_platform == 'win32'",
        "example-speedups>=0.3; extra == 'fast'",
      ],
    };
    wheels.push(app);
    sdists.push({ ...app, metadataVersion: "2.2" });
  }
  for (const version of ["1.9.0", "2.0.0", "2.1.0"]) {
    const http: DistSpec = {
      name: "example-http",
      version,
      requiresPython: ">=3.8",
      requiresDist: ["example-idna>=3,<4", "example-certs"],
    };
    wheels.push(http);
    sdists.push({ ...http, metadataVersion: "2.2" });
  }
  for (const version of ["3.6", "3.7"]) {
    wheels.push({ name: "example-idna", version, requiresPython: ">=3.6" });
  }
  wheels.push({ name: "example-certs", version: "2024.2.2" });
  wheels.push({ name: "example-color", version: "0.4.6", tags: "py2.py3-none-any" });
  for (const py of PYTHONS) {
    for (const platform of PLATFORMS) {
      wheels.push({
        name: "example-speedups",
        version: "0.3.1",
        requiresPython: ">=3.11",
        tags: `${py}-${py}-${platform}`,
      });
    }
  }
  sdists.push({
    name: "example-speedups",
    version: "0.3.1",
    requiresPython: ">=3.11",
    metadataVersion: "2.2",
  });
  // An sdist-only project whose PKG-INFO is trustworthy (Metadata-Version 2.2, nothing Dynamic).
  sdists.push({ name: "example-legacy", version: "0.9", metadataVersion: "2.2" });
  return { wheels, sdists };
}

/** Writes the example archives into `dir` and returns their file names. */
export async function buildExampleIndex(dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const { wheels, sdists } = exampleSpecs();
  const built = [
    ...await Promise.all(wheels.map((s) => buildWheel(s))),
    ...await Promise.all(sdists.map((s) => buildSdist(s))),
  ];
  for (const dist of built) await Deno.writeFile(join(dir, dist.filename), dist.bytes);
  return built.map((d) => d.filename).sort();
}

if (import.meta.main) {
  const dir = join(import.meta.dirname ?? ".", "index");
  const names = await buildExampleIndex(dir);
  console.log(`Wrote ${names.length} archives to ${dir}`);
}
