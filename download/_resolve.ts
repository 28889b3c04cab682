// Planning from requirements: gather the inputs, resolve them for every target through the index
// client and the provider layers, and list the files each target installs. Files of decided
// versions may start downloading while the resolver works (early downloads).
import { SpecifierSet } from "../pep/specifier.ts";
import { Version } from "../pep/version.ts";
import { IndexProvider } from "../resolver/index_provider.ts";
import type { IndexClient } from "../index/types.ts";
import { type ResolveRunOptions, resolveTargets } from "../resolver/resolve.ts";
import { ResolutionError, type ResolveEvent } from "../resolver/types.ts";
import { WheelhouseStore } from "../cache/wheelhouse_store.ts";
import type { PlannedFile } from "../lock/types.ts";
import { DownloadError } from "./types.ts";
import { gatherInputs, ignoredFindLinks, type Inputs } from "./_inputs.ts";
import { binarySelector } from "./_check.ts";
import { withDirectReferences } from "./_direct.ts";
import { checkHashes, hashFiltered, offlineAware, requirePins } from "./_providers.ts";
import { type Planned, resolverClientOf, type Session, targetsOf } from "./_session.ts";
import { startEarly } from "./_early.ts";
import { builderOf, type NeedsBuild, withBuiltMetadata } from "./_build.ts";
import { BuildError } from "../build/types.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { explainOfflineMisses, OFFLINE_HINT } from "./_offline.ts";
import { recordingMetadata, resolvedFacts } from "./_report_facts.ts";
import type { PinLine } from "./_outputs.ts";

/** Runs `task` on every item, at most `limit` at a time. */
async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}

/**
 * `--exclude-newer` filters by PEP 700 upload times: an index (or folder) that gives none has
 * its files kept whatever their date, which is said once per source (as uv does), not silently.
 */
function warnWithoutUploadTimes(s: Session, client: IndexClient): IndexClient {
  const warned = new Set<string>();
  return {
    metadata: (file, options) => client.metadata(file, options),
    authHeaders: (url) => client.authHeaders(url),
    async projectFiles(name, options) {
      const outcome = await client.projectFiles(name, options);
      if (outcome.kind !== "found") return outcome;
      for (const f of outcome.files) {
        if (f.uploadTime !== undefined || warned.has(f.index)) continue;
        warned.add(f.index);
        s.emit({
          kind: "warning",
          message: `--exclude-newer: ${
            redactUrl(f.index)
          } gives no upload times (PEP 700), so its files are not filtered by date`,
        });
      }
      return outcome;
    },
  };
}

/** What both kinds of resolution (per target, universal) start from. */
export interface Prepared {
  inputs: Inputs;
  client: IndexClient;
  provider: Awaited<ReturnType<typeof offlineAware>>;
  recorded: ReturnType<typeof recordingMetadata>;
  needsBuild: NeedsBuild[];
}

/** Gathers the inputs and builds the provider stack the resolver reads through. */
export async function prepareResolution(s: Session): Promise<Prepared> {
  const o = s.options;
  const inputs = await gatherInputs(o, { cwd: s.cwd, read: s.readText, env: s.env });
  // pip warns and goes on: a typo in -f must not pass unnoticed, nor fail a run that has indexes.
  for (const message of await ignoredFindLinks(inputs.findLinks)) {
    s.emit({ kind: "warning", message });
  }
  if (inputs.requirements.length === 0) {
    throw new DownloadError(
      "invalid-input",
      "Nothing to download: the requirement files list no requirements",
    );
  }
  // Sdists without static metadata are built for it (on this host), unless --no-build.
  const needsBuild: NeedsBuild[] = [];
  const builder = builderOf(s, inputs);
  s.builder = builder;
  const named = withBuiltMetadata(s, resolverClientOf(s, inputs), builder, needsBuild);
  const client = o.excludeNewer === undefined ? named : warnWithoutUploadTimes(s, named);
  s.hashesRequired = inputs.requireHashes || inputs.hashes.size > 0;
  if (s.hashesRequired) requirePins(inputs);
  // pip counts a direct reference's `#sha256=` as a given hash (it does not turn hash checking on).
  for (const r of inputs.requirements) {
    const fragment = r.url === undefined
      ? undefined
      : /[#&]sha256=([0-9a-fA-F]{64})/.exec(r.url)?.[1];
    if (fragment === undefined) continue;
    const set = inputs.hashes.get(r.normalizedName) ?? new Set<string>();
    set.add(`sha256:${fragment.toLowerCase()}`);
    inputs.hashes.set(r.normalizedName, set);
  }
  // The report carries the whole metadata documents the resolver read (it keeps only deps).
  const recorded = recordingMetadata(client);
  const indexed = new IndexProvider(recorded.client);
  const provider = offlineAware(
    await withDirectReferences(
      s.hashesRequired ? hashFiltered(indexed, inputs.hashes, inputs.requirements) : indexed,
      inputs.requirements,
      inputs.hashes,
      { builder, vcs: s.vcs },
    ),
  );
  return { inputs, client, provider, recorded, needsBuild };
}

/**
 * Resolves the session's requirements for its targets.
 *
 * @param speculate Whether files of decided versions may start downloading while resolving.
 */
export async function planFromRequirements(s: Session, speculate: boolean): Promise<Planned> {
  const o = s.options;
  const prepared = await prepareResolution(s);
  const { inputs, client, provider, recorded } = prepared;
  const t0 = s.now();
  // The root projects' pages do not depend on the targets: ask for them while the targets are
  // worked out (starting Python to learn the host's version can take a second).
  // A few at a time: a requirements file of 400 lines must not open 400 sockets or cache files
  // at once (EMFILE under macOS's default `ulimit -n 256`).
  const early = eachBounded(
    inputs.requirements,
    s.concurrency,
    (r) => provider.versions(r.normalizedName).then(() => {}, () => {}),
  );
  const targets = await targetsOf(s);
  await early;
  if (inputs.projectRequiresPython !== undefined) {
    const rp = SpecifierSet.parse(inputs.projectRequiresPython);
    const outside = targets.filter((t) =>
      !rp.contains(Version.parse(t.pythonFullVersion), { prereleases: true })
    );
    if (outside.length > 0) {
      throw new DownloadError(
        "invalid-input",
        `The project requires Python ${rp}, but ${
          outside.map((t) => `${t.name} has ${t.pythonFullVersion}`).join(", ")
        }`,
      );
    }
  }
  // Files of decided versions start downloading while the resolver works; a later backtrack
  // only wastes a transfer (the file stays in the cache). Not in hash-checking mode, where a
  // file must pass the check before it is fetched, nor offline. With a uv cache, the uv cache
  // is asked first, after resolution.
  const offline = o.offline ?? false;
  const spec = speculate && !offline && !s.hashesRequired && o.uvCacheDir === undefined;
  if (spec) s.present = await new WheelhouseStore(s.dest).scan({ cache: s.store });
  s.emit({ kind: "resolving", targets: targets.length });
  let resolution;
  // A guess said after the resolution ended (its metadata came late) starts nothing.
  let resolving = true;
  try {
    resolution = await resolveTargets(
      inputs.requirements,
      targets,
      resolverOptions(
        s,
        prepared,
        spec ? (e) => resolving && startEarly(s, e, client) : undefined,
      ),
    );
  } catch (e) {
    throw await resolutionFailure(s, prepared, e);
  } finally {
    resolving = false;
  }
  const resolveMs = s.now() - t0;
  const pins = new Map<string, Map<string, string>>();
  // A target that is a range of Python releases may install a package on some of its releases
  // only (with a marker), or two versions of one name on disjoint parts: its lines say so.
  const lines = new Map<string, PinLine[]>();
  let conditional = false;
  for (const r of resolution.resolutions) {
    const map = new Map<string, string>();
    for (const p of r.packages.values()) {
      if (!map.has(p.name)) map.set(p.name, p.version.toString());
      if (p.marker !== undefined || map.get(p.name) !== p.version.toString()) conditional = true;
    }
    pins.set(r.target.name, map);
    lines.set(
      r.target.name,
      [...r.packages.values()].map((p) => ({
        name: p.name,
        version: p.version.toString(),
        marker: p.marker?.toString() ?? "",
      })),
    );
  }
  const packages = new Set(
    resolution.resolutions.flatMap((r) =>
      [...r.packages.values()].map((p) => `${p.name}==${p.version}`)
    ),
  ).size;
  s.emit({ kind: "resolved", packages, targets: targets.map((t) => t.name), ms: resolveMs });
  const files: PlannedFile[] = resolution.files.map((f) => ({
    project: f.name,
    version: f.version.toString(),
    filename: f.file.filename,
    url: f.file.url,
    ...(f.file.origin !== undefined ? { origin: f.file.origin } : {}),
    ...(s.vcs.has(f.name) && f.file.url.startsWith("file:") ? { vcs: s.vcs.get(f.name)! } : {}),
    sha256: f.file.hashes["sha256"]?.toLowerCase(),
    size: f.file.size,
    targets: [...f.targets],
    ...(f.file.requiresPython !== undefined
      ? { requiresPython: f.file.requiresPython.toString() }
      : {}),
    ...resolvedFacts(f, inputs.requirements, targets, recorded.read),
  }));
  for (const f of files) {
    if (f.origin !== undefined) {
      s.emit({ kind: "detail", message: `${f.filename}: listed by ${redactUrl(f.origin)}` });
    }
  }
  checkHashes(inputs, files, s.hashesRequired);
  return {
    targets,
    files,
    pins,
    packages,
    resolveMs,
    headersFor: (url) => client.authHeaders(url),
    findMirror: () => Promise.resolve(undefined),
    sources: inputs,
    ...(conditional ? { lines } : {}),
  };
}

/**
 * The resolver's options for the session's inputs: the policy (constraints, pre-releases,
 * formats, dates), warnings and progress as events, and `onEvent` for the caller's own use.
 */
export function resolverOptions(
  s: Session,
  prepared: Prepared,
  onEvent?: (e: ResolveEvent) => void,
): ResolveRunOptions {
  const { inputs, provider } = prepared;
  const o = s.options;
  // Decisions a backtrack undoes are counted once: the count says how far the resolver got.
  const decided = new Set<string>();
  return {
    provider,
    reporter: {
      onEvent: (e) => {
        if (e.kind === "warning") {
          s.emit({ kind: "warning", message: e.message });
          return;
        }
        if (e.kind === "decided") decided.add(`${e.target}\0${e.name}`);
        if (e.kind === "decided" || e.kind === "versions" || e.kind === "metadata") {
          s.emit({ kind: "resolving-progress", decided: decided.size, project: e.name });
        }
        onEvent?.(e);
      },
    },
    constraints: inputs.constraints,
    prereleases: inputs.pre,
    ...(o.excludeNewer !== undefined ? { excludeNewer: o.excludeNewer.getTime() } : {}),
    onlyBinary: binarySelector(inputs.onlyBinary),
    noBinary: binarySelector(inputs.noBinary),
    preferBinary: inputs.preferBinary,
    noDeps: o.noDeps ?? false,
    concurrency: s.concurrency,
    ...(s.signal !== undefined ? { signal: s.signal } : {}),
  };
}

/**
 * The error to report for a failed resolution: a build's own message, what --no-build left
 * unresolved, or (offline) what the machine lacks; otherwise the resolver's error.
 */
export async function resolutionFailure(
  s: Session,
  prepared: Prepared,
  e: unknown,
): Promise<unknown> {
  const { inputs, provider, needsBuild } = prepared;
  const offline = s.options.offline ?? false;
  // A build that failed while the resolver read metadata: its own message (hook, package,
  // output, log) is the whole story, not "cannot resolve".
  const built = e instanceof BuildError
    ? e
    : e instanceof Error && e.cause instanceof BuildError
    ? e.cause
    : undefined;
  if (built !== undefined) {
    return new DownloadError("build-failed", built.message, { cause: built });
  }
  if (e instanceof ResolutionError && needsBuild.length > 0) {
    return new DownloadError(
      "build-failed",
      `--no-build: ${
        needsBuild.length === 1 ? "this needs" : "these need"
      } a build to be resolved:\n  ${
        needsBuild.map((n) => `${n.what} (${n.reason})`).join("\n  ")
      }\n${e.message}`,
      { cause: e },
    );
  }
  if (e instanceof ResolutionError && offline) {
    // The projects the explanation names, besides those not found at all: offline, "no
    // version fits" usually means the cache holds other versions than the ones wanted.
    const named = [
      ...inputs.requirements.map((r) => r.normalizedName),
      ...provider.wantedBy.keys(),
    ]
      .filter((p) =>
        !provider.misses.has(p) &&
        new RegExp(`no version of ${p.replace(/[.]/g, "\\.")}[^a-z0-9._-]`, "i").test(
          e.message.replaceAll("_", "-"),
        )
      );
    const lines = await explainOfflineMisses(
      s,
      inputs,
      provider.misses,
      named,
      inputs.requirements,
      provider.wantedBy,
    );
    return new DownloadError(
      "offline-miss",
      `Offline, and nothing this machine holds can serve:\n${lines}\n${e.message}\n${OFFLINE_HINT}`,
      { cause: e },
    );
  }
  return e;
}
