// Isolated build environments without pip: the provider hands us wheels, we unpack them into a
// prefix in the cache, keyed by (requirements, interpreter), published by renaming a finished
// temp folder so a killed or concurrent run never leaves half an environment where a reader looks.
//
// <cache>/build-v1/envs/<key>/
//   site/     purelib + platlib of every wheel (with their .dist-info: entry points, versions)
//   bin/      the wheels' scripts (on PATH during the build)
//   include/  the wheels' headers
//   boot/sitecustomize.py   the isolation (see _scripts.ts); boot/ is the whole PYTHONPATH
//   env.json  requirements, interpreter fingerprint, installed projects; written last

import * as fsp from "node:fs/promises";
import { basename, delimiter, join, resolve } from "node:path";
import { parseWheelFilename } from "../pep/filename.ts";
import { normalizeName } from "../pep/name.ts";
import { Requirement } from "../pep/requirement.ts";
import { Version } from "../pep/version.ts";
import { segmentsOf } from "./_archive.ts";
import { SITE_CUSTOMIZE_SCRIPT } from "./_scripts.ts";
import {
  CACHE_SUBDIR,
  exists,
  hashJson,
  interpreterFingerprint,
  makeTempDir,
  publishDir,
} from "./_util.ts";
import {
  type BuildEnvironmentProvider,
  BuildError,
  type BuildReporter,
  type InterpreterInfo,
} from "./types.ts";

/** A published build environment. */
export interface BuildEnv {
  key: string;
  prefix: string;
  site: string;
  boot: string;
  bin: string;
  requirements: string[];
  installed: { name: string; version: string; wheel: string }[];
}

export interface EnvironmentContext {
  cacheDir: string;
  provider: BuildEnvironmentProvider;
  interpreter: InterpreterInfo;
  random: () => number;
  now: () => number;
  signal: AbortSignal | undefined;
  reporter: BuildReporter | undefined;
  /** Why the environment is needed, for messages: `Cannot build "demo"`. */
  project: string;
}

const FORMAT = 1;

// Concurrent builds in this process that need one environment make it once.
const making = new Map<string, Promise<BuildEnv>>();

/** Requirement strings, validated, normalised, deduplicated and sorted: the environment's key. */
export function normalizeRequirements(requirements: readonly string[], project: string): string[] {
  const out = new Set<string>();
  for (const r of requirements) {
    try {
      out.add(Requirement.parse(r).toString());
    } catch (e) {
      throw new BuildError(
        "invalid-project",
        `Cannot build "${project}": invalid build requirement "${r}"`,
        { project, cause: e },
      );
    }
  }
  return [...out].sort();
}

/**
 * The requirements (markers evaluated for the interpreter) that `env` does not satisfy. A
 * requirement with extras is never taken as satisfied: the extras' dependencies are unknown here.
 */
export function unsatisfied(
  env: BuildEnv,
  requirements: readonly string[],
  interpreter: InterpreterInfo,
): string[] {
  const have = new Map(env.installed.map((i) => [normalizeName(i.name), i.version]));
  const out: string[] = [];
  for (const text of requirements) {
    const r = Requirement.parse(text);
    if (r.marker && !r.marker.evaluate(interpreter.markerEnvironment)) continue;
    const version = have.get(r.normalizedName);
    const ok = version !== undefined && r.extras.length === 0 && r.url === undefined &&
      r.specifier.contains(Version.parse(version), { prereleases: true });
    if (!ok) out.push(text);
  }
  return out;
}

/** The environment variables of a process that runs inside `env`. */
export function isolatedProcessEnv(
  env: BuildEnv,
  base: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = { ...base };
  // Only our sitecustomize is on PYTHONPATH; the user's own PYTHONPATH would defeat isolation.
  out["PYTHONPATH"] = env.boot;
  out["PYTHONNOUSERSITE"] = "1";
  const pathKey = Object.keys(out).find((k) => k.toUpperCase() === "PATH") ?? "PATH";
  out[pathKey] = out[pathKey] ? `${env.bin}${delimiter}${out[pathKey]}` : env.bin;
  return out;
}

async function loadEnv(prefix: string): Promise<BuildEnv | undefined> {
  try {
    const doc = JSON.parse(await fsp.readFile(join(prefix, "env.json"), "utf8")) as {
      format: number;
      key: string;
      requirements: string[];
      installed: BuildEnv["installed"];
    };
    if (doc.format !== FORMAT) return undefined;
    return {
      key: doc.key,
      prefix,
      site: join(prefix, "site"),
      boot: join(prefix, "boot"),
      bin: join(prefix, "bin"),
      requirements: doc.requirements,
      installed: doc.installed,
    };
  } catch {
    return undefined;
  }
}

/**
 * The environment for `requirements` (normalised), from the cache or made now from the
 * provider's wheels.
 */
export async function ensureEnvironment(
  requirements: readonly string[],
  ctx: EnvironmentContext,
): Promise<BuildEnv> {
  const key = hashJson({
    format: FORMAT,
    requirements,
    interpreter: interpreterFingerprint(ctx.interpreter),
  });
  const prefix = join(resolve(ctx.cacheDir), CACHE_SUBDIR, "envs", key.slice(0, 32));
  const found = await loadEnv(prefix);
  if (found) {
    ctx.reporter?.event({ kind: "environment-reused", requirements, path: prefix });
    return found;
  }
  const pending = making.get(prefix);
  if (pending) return await pending;
  const work = makeEnvironment(requirements, key, prefix, ctx);
  making.set(prefix, work);
  try {
    return await work;
  } finally {
    making.delete(prefix);
  }
}

async function makeEnvironment(
  requirements: readonly string[],
  key: string,
  prefix: string,
  ctx: EnvironmentContext,
): Promise<BuildEnv> {
  const started = ctx.now();
  let wheels: string[] = [];
  if (requirements.length > 0) {
    try {
      wheels = await ctx.provider.installRequirements(requirements, ctx.interpreter, {
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    } catch (e) {
      if (e instanceof BuildError) throw e;
      throw new BuildError(
        "environment-failed",
        `Cannot build "${ctx.project}": cannot get the build requirements ${
          requirements.join(", ")
        }: ${e instanceof Error ? e.message : e}`,
        { project: ctx.project, cause: e },
      );
    }
  }
  const temp = await makeTempDir(ctx.cacheDir, `env-${key.slice(0, 12)}`, ctx.random);
  try {
    await Promise.all(
      ["site", "bin", "include", "boot"].map((d) => fsp.mkdir(join(temp, d), { recursive: true })),
    );
    const installed: BuildEnv["installed"] = [];
    const seen = new Map<string, string>();
    for (const wheel of wheels) {
      const info = await unpackWheel(wheel, temp, ctx.interpreter, ctx.project);
      const name = normalizeName(info.name);
      const other = seen.get(name);
      if (other !== undefined) {
        throw new BuildError(
          "environment-failed",
          `Cannot build "${ctx.project}": the build environment got two wheels of ${name}: ${other} and ${
            basename(wheel)
          }`,
          { project: ctx.project },
        );
      }
      seen.set(name, basename(wheel));
      installed.push({ name, version: info.version, wheel: basename(wheel) });
    }
    await fsp.writeFile(join(temp, "boot", "sitecustomize.py"), SITE_CUSTOMIZE_SCRIPT);
    await fsp.writeFile(
      join(temp, "env.json"),
      JSON.stringify({ format: FORMAT, key, requirements, installed }, null, 2),
    );
    // An entry without env.json is none (it was damaged by hand): replace it.
    if (await exists(prefix) && !(await exists(join(prefix, "env.json")))) {
      const aside = `${temp}-damaged`;
      await fsp.rename(prefix, aside).catch(() => {});
      await fsp.rm(aside, { recursive: true, force: true });
    }
    await publishDir(temp, prefix);
  } catch (e) {
    await fsp.rm(temp, { recursive: true, force: true });
    throw e;
  }
  const env = await loadEnv(prefix);
  if (env === undefined) {
    throw new BuildError(
      "environment-failed",
      `Cannot build "${ctx.project}": the build environment ${prefix} is unreadable`,
      { project: ctx.project },
    );
  }
  ctx.reporter?.event({
    kind: "environment-created",
    requirements,
    path: prefix,
    ms: ctx.now() - started,
  });
  return env;
}

/**
 * Unpacks one wheel into a prefix as an installer would (PEP 427's spreading of `.data`), without
 * RECORD or entry-point scripts: the environment is never uninstalled from, and build tools are
 * run as modules.
 */
async function unpackWheel(
  path: string,
  prefix: string,
  interpreter: InterpreterInfo,
  project: string,
): Promise<{ name: string; version: string }> {
  const fail = (why: string, cause?: unknown) =>
    new BuildError(
      "environment-failed",
      `Cannot build "${project}": build requirement wheel "${path}" ${why}`,
      cause === undefined ? { project } : { project, cause },
    );
  let parsed;
  try {
    parsed = parseWheelFilename(basename(path));
  } catch (e) {
    throw fail("has no valid wheel file name", e);
  }
  let files: Record<string, Uint8Array>;
  const { unzipSync } = await import("fflate");
  try {
    files = unzipSync(await fsp.readFile(path));
  } catch (e) {
    throw fail(`cannot be read (${e instanceof Error ? e.message : e})`, e);
  }
  const made = new Set<string>();
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith("/")) continue;
    const segs = segmentsOf(name);
    if (segs === undefined || segs.length === 0) throw fail(`has an unsafe member "${name}"`);
    let dest: string;
    let mode = 0o644;
    let bytes = data;
    const first = segs[0] ?? "";
    if (first.endsWith(".data") && segs.length >= 3) {
      const scheme = segs[1];
      const rest = segs.slice(2);
      if (scheme === "purelib" || scheme === "platlib") dest = join(prefix, "site", ...rest);
      else if (scheme === "scripts") {
        dest = join(prefix, "bin", ...rest);
        mode = 0o755;
        // PEP 427: a script starting with "#!python" gets the interpreter's path.
        const head = new TextDecoder().decode(data.subarray(0, 9));
        if (head.startsWith("#!python")) {
          const text = new TextDecoder().decode(data);
          bytes = new TextEncoder().encode(
            `#!${interpreter.executable}${text.slice(text.indexOf("\n"))}`,
          );
        }
      } else if (scheme === "headers") dest = join(prefix, "include", parsed.name, ...rest);
      else if (scheme === "data") dest = join(prefix, ...rest);
      else throw fail(`has an unknown .data folder "${scheme}"`);
    } else {
      dest = join(prefix, "site", ...segs);
    }
    const dir = resolve(dest, "..");
    if (!made.has(dir)) {
      await fsp.mkdir(dir, { recursive: true });
      made.add(dir);
    }
    await fsp.writeFile(dest, bytes, { mode });
  }
  return { name: parsed.name, version: parsed.version.toString() };
}
