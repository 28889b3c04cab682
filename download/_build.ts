// Building from source inside the pipeline: the PEP 517 front end (build/) is handed our own
// resolver and cache for its isolated environments, reads the metadata of sdists that have no
// static metadata, and builds wheels and sdists where the run asks for them. Building runs the
// package's own code, as pip does; `--no-build` never does.
import * as fsp from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BuildFrontend } from "../build/build_frontend.ts";
import type { BuildSource, InterpreterInfo } from "../build/types.ts";
import type { DistFile, IndexClient, MetadataOutcome } from "../index/types.ts";
import { parseCoreMetadata } from "../pep/metadata.ts";
import { Requirement } from "../pep/requirement.ts";
import { tagRanker, type Target, targetFromPipOptions } from "../pep/tags.ts";
import { parseWheelFilename } from "../pep/filename.ts";
import type { PlannedFile } from "../lock/types.ts";
import { IndexProvider } from "../resolver/index_provider.ts";
import { resolveTargets } from "../resolver/resolve.ts";
import { ResolutionError } from "../resolver/types.ts";
import { DownloadError } from "./types.ts";
import { type Planned, resolverClientOf, type Session, type Sources } from "./_session.ts";

/** What needed a build in a `--no-build` run (or could not be built), by file. */
export interface NeedsBuild {
  /** `name version` or the reference. */
  what: string;
  /** Why. */
  reason: string;
}

/** The session's builder: one front end per call, made on first use. */
export interface Builder {
  /** The front end (interpreter, environments, caches). */
  frontend: BuildFrontend;
  /** The interpreter's facts. */
  interpreter(): Promise<InterpreterInfo>;
  /** The target the interpreter is (for its build environments and host-built wheels). */
  hostTarget(): Promise<Target>;
  /** The local path of a file's bytes: a `file:` URL's path, else the cache's copy (fetched). */
  localPath(
    file: { url: string; sha256?: string | undefined; filename: string; project: string },
  ): Promise<string>;
}

/** Platform tags an interpreter's wheels may carry, best first (what pip would install there). */
function platformsOf(i: InterpreterInfo): string[] {
  const arch = i.markerEnvironment.platform_machine;
  const m = /^macosx-(\d+)\.(\d+)-(.+)$/.exec(i.platform);
  if (m !== null) return [`macosx_${m[1]}_${m[2]}_${m[3]}`];
  if (i.platform.startsWith("win")) return [i.platformTag];
  if (i.libc.name === "glibc") {
    const [major = "2", minor = "17"] = i.libc.version.split(".");
    const out: string[] = [];
    for (let v = Number(minor); v >= 17 && major === "2"; v--) out.push(`manylinux_2_${v}_${arch}`);
    out.push(`manylinux2014_${arch}`);
    out.push(i.platformTag);
    return out;
  }
  return [i.platformTag];
}

/** The interpreter as a resolution target. */
function targetOf(i: InterpreterInfo): Target {
  const base = targetFromPipOptions({
    platforms: platformsOf(i),
    pythonVersion: i.pythonVersion,
    implementation: i.implementation === "cpython"
      ? "cp"
      : i.implementation === "pypy"
      ? "pp"
      : "py",
  });
  return {
    ...base,
    name: `build environment (${i.interpreterTag}-${i.platformTag})`,
    markerEnvironment: i.markerEnvironment,
    pythonFullVersion: i.version,
  };
}

/**
 * The builder of a call, or undefined with `--no-build`. Build environments are resolved with
 * our resolver against the run's indexes (wheels only: a build dependency that is itself only an
 * sdist is not built recursively), fetched through the cache, and laid out by the front end.
 */
export function builderOf(s: Session, sources: Sources): Builder | undefined {
  const o = s.options;
  if (o.noBuild ?? false) return undefined;
  let host: Promise<Target> | undefined;
  const localPath: Builder["localPath"] = async (file) => {
    if (file.url.startsWith("file:")) return fileURLToPath(file.url);
    const got = await s.store.obtain(s.fetcher, {
      url: file.url,
      filename: file.filename,
      project: file.project,
      ...(file.sha256 !== undefined ? { sha256: file.sha256 } : {}),
    }, s.signal !== undefined ? { signal: s.signal } : {});
    return got.path;
  };
  const frontend = new BuildFrontend({
    cacheDir: s.store.root,
    ...(o.python !== undefined ? { python: o.python } : {}),
    noBuildIsolation: o.noBuildIsolation ?? false,
    env: Object.fromEntries(
      ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SYSTEMROOT", "CC", "CXX", "CFLAGS", "LDFLAGS"]
        .flatMap((k) => {
          const v = s.env(k);
          return v === undefined ? [] : [[k, v]];
        }),
    ),
    environments: {
      installRequirements: async (requirements, interpreter, options) => {
        const target = targetOf(interpreter);
        const client = resolverClientOf(s, sources);
        let resolution;
        try {
          resolution = await resolveTargets(
            requirements.map((r) => Requirement.parse(r)),
            [target],
            {
              provider: new IndexProvider(client),
              onlyBinary: [":all:"],
              concurrency: s.concurrency,
              ...(options?.signal !== undefined ? { signal: options.signal } : {}),
            },
          );
        } catch (e) {
          if (e instanceof ResolutionError) {
            throw new DownloadError(
              "download-failed",
              `Cannot make a build environment with ${requirements.join(", ")}: ${e.message}`,
              { cause: e },
            );
          }
          throw e;
        }
        // The front end reads wheels by their names: cached bytes are linked under their name.
        return await Promise.all(resolution.files.map(async (f) => {
          const path = await localPath({
            url: f.file.url,
            sha256: f.file.hashes["sha256"]?.toLowerCase(),
            filename: f.file.filename,
            project: f.name,
          });
          if (basename(path) === f.file.filename) return path;
          const dir = join(s.store.root, "build-v1", "inputs", basename(path));
          const named = join(dir, f.file.filename);
          await fsp.mkdir(dir, { recursive: true });
          await fsp.link(path, named).catch(async (e: { code?: string }) => {
            if (e.code === "EEXIST") return;
            await fsp.copyFile(path, named);
          });
          return named;
        }));
      },
    },
  });
  return {
    frontend,
    interpreter: () => frontend.interpreter(),
    hostTarget: () => (host ??= frontend.interpreter().then(targetOf)),
    localPath,
  };
}

/**
 * An index client whose sdists without static metadata get it from the build backend
 * (`prepare_metadata_for_build_wheel`, on this host, cached by the sdist's hash), so resolution
 * goes on for every target. Without a builder (`--no-build`), they are recorded and stay
 * `needs-build`.
 */
export function withBuiltMetadata(
  s: Session,
  client: IndexClient,
  builder: Builder | undefined,
  needsBuild: NeedsBuild[],
): IndexClient {
  return {
    projectFiles: (name, options) => client.projectFiles(name, options),
    authHeaders: (url) => client.authHeaders(url),
    async metadata(file: DistFile, options): Promise<MetadataOutcome> {
      const outcome = await client.metadata(file, options);
      if (outcome.kind !== "needs-build") return outcome;
      const what = `${file.parsed.normalizedName} ${file.parsed.version}`;
      if (builder === undefined) {
        needsBuild.push({ what, reason: `${file.filename}: ${outcome.reason}` });
        return outcome;
      }
      const path = await builder.localPath({
        url: file.url,
        sha256: file.hashes["sha256"]?.toLowerCase(),
        filename: file.filename,
        project: file.parsed.normalizedName,
      });
      const prepared = await builder.frontend.prepareMetadata(
        { kind: "archive", path, name: file.parsed.normalizedName },
        options?.signal !== undefined ? { signal: options.signal } : {},
      );
      const interp = await builder.interpreter();
      s.emit({
        kind: "detail",
        message:
          `${what}: metadata from its build backend on this host (Python ${interp.version}, ${interp.platform}${
            prepared.cached ? ", cached" : ""
          }); its dependencies may differ on other targets`,
      });
      return { kind: "found", metadata: parseCoreMetadata(prepared.metadata), via: "build" };
    },
  };
}

/** A source the front end can build: a directory, a git URL, or an archive path. */
export function buildSourceOf(url: string, name: string): BuildSource | undefined {
  const git = /^git\+(.*)$/i.exec(url);
  if (git !== null) {
    const rest = git[1]!;
    const hash = rest.indexOf("#");
    const fragment = hash < 0 ? "" : rest.slice(hash + 1);
    const base = hash < 0 ? rest : rest.slice(0, hash);
    // `@rev` after the path (not the user-info's `@`).
    const at = base.lastIndexOf("@");
    const slash = base.lastIndexOf("/");
    const rev = at > slash ? base.slice(at + 1) : undefined;
    const repo = at > slash ? base.slice(0, at) : base;
    const subdirectory = /(?:^|&)subdirectory=([^&]+)/.exec(fragment)?.[1];
    return {
      kind: "git",
      url: repo,
      ...(rev !== undefined && rev !== "" ? { rev } : {}),
      ...(subdirectory !== undefined ? { subdirectory: decodeURIComponent(subdirectory) } : {}),
      name,
    };
  }
  if (url.startsWith("file:")) {
    return { kind: "directory", path: fileURLToPath(url.replace(/#.*$/, "")), name };
  }
  return undefined;
}

/**
 * `--build-wheels` and `--build-deps` on a plan: for each sdist, a wheel built here for the
 * targets that can install it (same platform and Python, or a pure-Python result), and the
 * build requirements (static and from `get_requires_for_build_wheel`) resolved for each target
 * the sdist serves, so that `pip install --no-index --find-links DIR` can build it offline.
 */
export async function addBuilds(s: Session, sources: Sources, planned: Planned): Promise<void> {
  const o = s.options;
  if (!(o.buildWheels ?? false) && !(o.buildDeps ?? false)) return;
  const builder = s.builder ?? builderOf(s, sources);
  if (builder === undefined) {
    throw new DownloadError(
      "invalid-input",
      "--no-build cannot be used with --build-wheels or --build-deps",
    );
  }
  const sdists = planned.files.filter((f) => !f.filename.endsWith(".whl") && f.targets.length > 0);
  const added = new Map<string, PlannedFile>();
  const add = (f: PlannedFile): void => {
    const known = added.get(f.filename) ?? planned.files.find((p) => p.filename === f.filename);
    if (known === undefined) {
      added.set(f.filename, f);
      return;
    }
    for (const t of f.targets) if (!known.targets.includes(t)) known.targets.push(t);
    if (f.buildDependencyOf !== undefined) {
      known.buildDependencyOf = [
        ...new Set([...(known.buildDependencyOf ?? []), ...f.buildDependencyOf]),
      ];
    }
  };
  for (const sdist of sdists) {
    const path = await builder.localPath(sdist);
    const source: BuildSource = { kind: "archive", path, name: sdist.project };
    if (o.buildWheels ?? false) {
      const built = await builder.frontend.buildWheel(source);
      const tags = parseWheelFilename(built.filename).tags;
      const fits = planned.targets.filter((t) =>
        sdist.targets.includes(t.name) && tagRanker(t)(tags) !== undefined
      );
      s.emit({
        kind: fits.length === sdist.targets.length ? "detail" : "note",
        message: `${built.filename}: built for ${fits.length} of ${sdist.targets.length} target${
          sdist.targets.length === 1 ? "" : "s"
        }${fits.length < sdist.targets.length ? "; the others install the sdist" : ""}`,
      });
      if (fits.length > 0) {
        const entry = await s.store.put({ path: built.path }, {
          filename: built.filename,
          project: sdist.project,
          origin: `built here from ${sdist.filename}`,
        });
        add({
          project: sdist.project,
          version: sdist.version,
          filename: built.filename,
          url: pathToFileURL(built.path).href,
          origin: `built here from ${sdist.filename}`,
          sha256: entry.sha256,
          size: entry.size,
          targets: fits.map((t) => t.name),
        });
      }
    }
    if (o.buildDeps ?? false) {
      const needed = await builder.frontend.buildRequirements(source);
      const requirements = [...needed.requires, ...needed.dynamic].map((r) => Requirement.parse(r));
      const targets = planned.targets.filter((t) => sdist.targets.includes(t.name));
      let resolution;
      try {
        resolution = await resolveTargets(requirements, targets, {
          provider: new IndexProvider(resolverClientOf(s, sources)),
          onlyBinary: [":all:"],
          concurrency: s.concurrency,
          ...(s.signal !== undefined ? { signal: s.signal } : {}),
        });
      } catch (e) {
        if (e instanceof ResolutionError) {
          throw new DownloadError(
            "download-failed",
            `Cannot bring the build requirements of ${sdist.filename} (${
              requirements.join(", ")
            }): ${e.message}`,
            { cause: e },
          );
        }
        throw e;
      }
      for (const f of resolution.files) {
        add({
          project: f.name,
          version: f.version.toString(),
          filename: f.file.filename,
          url: f.file.url,
          sha256: f.file.hashes["sha256"]?.toLowerCase(),
          size: f.file.size,
          targets: [...f.targets],
          buildDependencyOf: [sdist.filename],
          ...(f.file.origin !== undefined ? { origin: f.file.origin } : {}),
        });
      }
      s.emit({
        kind: "detail",
        message: `${sdist.filename}: build requirements ${
          requirements.map(String).join(", ") || "(none)"
        } -> ${resolution.files.map((f) => f.file.filename).join(", ")}`,
      });
    }
  }
  planned.files.push(...added.values());
}
