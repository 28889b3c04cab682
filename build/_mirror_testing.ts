// Test helpers: a BuildEnvironmentProvider over the machine's mirror of real wheels (the folders
// pip's configuration names: find-links /opt/wheels and the two file:// indexes' files), and the
// checks that decide whether tests needing Python or the mirror run or skip, loudly.
//
// The "resolver" is deliberately small: for each requirement the newest compatible wheel whose
// version and Requires-Python fit, then its own dependencies (markers and extras evaluated); a
// conflict with an earlier pick is an error. Enough for build back ends and their few dependencies.

import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { parseWheelFilename, type WheelFilename } from "../pep/filename.ts";
import { parseCoreMetadata } from "../pep/metadata.ts";
import { Requirement } from "../pep/requirement.ts";
import { Version } from "../pep/version.ts";
import { inspectInterpreter } from "./inspect_interpreter.ts";
import type { BuildEnvironmentProvider, InterpreterInfo } from "./types.ts";

/** The mirror's wheel folders. */
export const MIRROR_DIRS: readonly string[] = [
  "/opt/pypi/files",
  "/opt/pypi-more/files",
  "/opt/wheels",
];

/** Whether a wheel's tags fit the interpreter (pure wheels, its own ABI, abi3, linux/manylinux). */
function compatible(w: WheelFilename, info: InterpreterInfo): boolean {
  const py = `py${info.pythonVersion.replace(".", "")}`;
  const major = `py${info.pythonVersion.split(".")[0]}`;
  const linux = info.platformTag.startsWith("linux_");
  const arch = info.platformTag.replace(/^linux_/, "");
  return w.tags.some((t) => {
    const [i = "", a = "", p = ""] = t.split("-");
    const interp = i === major || i === py || i === info.interpreterTag ||
      (i.startsWith("cp3") && a === "abi3" && i <= info.interpreterTag);
    const abi = a === "none" || a === "abi3" || a === info.abiTag;
    const plat = p === "any" || p === info.platformTag ||
      (linux && /^manylinux/.test(p) && p.endsWith(`_${arch}`));
    return interp && abi && plat;
  });
}

/** Wheels from the mirror, picked as described at the top of this file. */
export class MirrorProvider implements BuildEnvironmentProvider {
  readonly #dirs: readonly string[];
  #index: Promise<Map<string, { path: string; wheel: WheelFilename }[]>> | undefined;
  /** Every call's requirements, for tests that count environment builds. */
  readonly calls: string[][] = [];

  /** @param dirs Folders of wheels. */
  constructor(dirs: readonly string[] = MIRROR_DIRS) {
    this.#dirs = dirs;
  }

  #load(): Promise<Map<string, { path: string; wheel: WheelFilename }[]>> {
    this.#index ??= (async () => {
      const byName = new Map<string, { path: string; wheel: WheelFilename }[]>();
      for (const dir of this.#dirs) {
        let names: string[] = [];
        try {
          names = await fsp.readdir(dir);
        } catch {
          continue;
        }
        for (const name of names) {
          if (!name.endsWith(".whl")) continue;
          let wheel: WheelFilename;
          try {
            wheel = parseWheelFilename(name);
          } catch {
            continue;
          }
          const list = byName.get(wheel.normalizedName) ?? [];
          list.push({ path: join(dir, name), wheel });
          byName.set(wheel.normalizedName, list);
        }
      }
      for (const list of byName.values()) {
        list.sort((a, b) => b.wheel.version.compare(a.wheel.version));
      }
      return byName;
    })();
    return this.#index;
  }

  /** Resolves `requirements` against the mirror and returns one wheel path per project. */
  async installRequirements(
    requirements: readonly string[],
    interpreter: InterpreterInfo,
  ): Promise<string[]> {
    this.calls.push([...requirements]);
    const index = await this.#load();
    const chosen = new Map<string, { path: string; version: string; requires: Requirement[] }>();
    const done = new Set<string>();
    const queue: { req: Requirement; extras: readonly string[] }[] = requirements.map((r) => ({
      req: Requirement.parse(r),
      extras: [],
    }));
    while (queue.length > 0) {
      const { req, extras } = queue.shift() as { req: Requirement; extras: readonly string[] };
      const env = interpreter.markerEnvironment;
      if (req.marker && !req.marker.evaluate(env, { extras: [...extras] })) continue;
      const name = req.normalizedName;
      let pick = chosen.get(name);
      if (pick === undefined) {
        for (const c of index.get(name) ?? []) {
          if (!compatible(c.wheel, interpreter)) continue;
          if (!req.specifier.contains(c.wheel.version)) continue;
          const files = unzipSync(await fsp.readFile(c.path), {
            filter: (f) => /^[^/]+\.dist-info\/METADATA$/.test(f.name),
          });
          const text = new TextDecoder().decode(Object.values(files)[0]);
          const meta = parseCoreMetadata(text);
          const rp = meta.requiresPython;
          if (rp && !rp.contains(Version.parse(interpreter.version), { prereleases: true })) {
            continue;
          }
          pick = {
            path: c.path,
            version: c.wheel.version.toString(),
            requires: [...meta.requiresDist],
          };
          chosen.set(name, pick);
          break;
        }
        if (pick === undefined) throw new Error(`the mirror has no wheel for ${req.toString()}`);
      } else if (!req.specifier.contains(Version.parse(pick.version), { prereleases: true })) {
        throw new Error(`${req.toString()} conflicts with the chosen ${name} ${pick.version}`);
      }
      for (const extra of ["", ...req.extras]) {
        const key = `${name}[${extra}]`;
        if (done.has(key)) continue;
        done.add(key);
        for (const dep of pick.requires) {
          queue.push({ req: dep, extras: extra === "" ? [] : [extra] });
        }
      }
    }
    return [...chosen.values()].map((c) => c.path);
  }
}

/** The interpreter tests build with, or undefined (after a warning naming what is skipped). */
export async function testInterpreter(skipping: string): Promise<InterpreterInfo | undefined> {
  try {
    return await inspectInterpreter("python3");
  } catch (e) {
    console.warn(`SKIPPING ${skipping}: ${e instanceof Error ? e.message : e}`);
    return undefined;
  }
}

/** Whether the wheel mirror is here (warns, naming what is skipped, when it is not). */
export async function haveMirror(skipping: string): Promise<boolean> {
  const names = await fsp.readdir(MIRROR_DIRS[0] ?? "").catch(() => [] as string[]);
  const ok = names.some((n) => n.startsWith("setuptools-") && n.endsWith(".whl"));
  if (!ok) console.warn(`SKIPPING ${skipping}: no wheel mirror at ${MIRROR_DIRS.join(", ")}`);
  return ok;
}
