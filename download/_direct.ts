// Direct references (`name @ https://…/name-1.0-py3-none-any.whl`, `name @ file:///…`, and bare
// archive paths in requirement files): the project's only candidate is that file, as in pip.
// VCS and directory references are built into an sdist first (the commit pinned), unless the
// run may not build, when they are refused with the requirement named.
import * as fsp from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Builder, buildSourceOf } from "./_build.ts";
import { type DistFilename, parseDistFilename } from "../pep/filename.ts";
import type { Requirement } from "../pep/requirement.ts";
import { candidatesFromFiles } from "../resolver/index_provider.ts";
import type { Provider, VersionCandidate } from "../resolver/types.ts";
import { DownloadError } from "./types.ts";

/** A direct reference resolved to its one file (built on first use for VCS and folders). */
interface Direct {
  candidate: Promise<VersionCandidate>;
  url: string;
}

/** A VCS reference pinned to the commit it resolved to. */
export interface PinnedVcs {
  /** The repository URL as given (without `git+` and the revision). */
  url: string;
  /** The revision asked for, when one was. */
  requestedRevision?: string;
  /** The commit it resolved to. */
  commitId: string;
}

/** Whether a reference needs a build: VCS, or a `file:` URL that names a folder. */
async function needsBuild(raw: string): Promise<boolean> {
  if (/^(git|hg|svn|bzr)\+/i.test(raw)) return true;
  if (!/^file:/i.test(raw)) return false;
  try {
    return (await fsp.stat(fileURLToPath(raw.replace(/#.*$/, "")))).isDirectory();
  } catch {
    return false;
  }
}

function directFile(
  req: Requirement,
): { url: string; filename: string; parsed: DistFilename; sha256?: string } {
  const raw = req.url!;
  if (/^(hg|svn|bzr)\+/i.test(raw)) {
    throw new DownloadError(
      "invalid-input",
      `${req}: only git references can be built here; pin a released version instead`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError("invalid-input", `${req}: "${raw}" is not a URL`);
  }
  if (!["http:", "https:", "file:"].includes(url.protocol)) {
    throw new DownloadError("invalid-input", `${req}: ${url.protocol} URLs are not supported`);
  }
  const path = url.protocol === "file:" ? fileURLToPath(url) : decodeURIComponent(url.pathname);
  const filename = path.split(/[\\/]/).pop() ?? "";
  let parsed: DistFilename;
  try {
    parsed = parseDistFilename(filename, req.name);
  } catch {
    throw new DownloadError(
      "invalid-input",
      `${req}: "${
        filename || raw
      }" is not a wheel or sdist file (a directory or other reference would need a build)`,
    );
  }
  if (parsed.normalizedName !== req.normalizedName) {
    throw new DownloadError(
      "invalid-input",
      `${req}: the file "${filename}" is for project "${parsed.name}"`,
    );
  }
  const sha256 = /(?:^|&)sha256=([0-9a-fA-F]{64})(?:&|$)/.exec(url.hash.slice(1))?.[1]
    ?.toLowerCase();
  url.hash = "";
  return { url: url.href, filename, parsed, ...(sha256 !== undefined ? { sha256 } : {}) };
}

/**
 * Wraps a provider so that projects named by a direct reference have exactly that file as their
 * only candidate; its metadata is read from that file by the inner provider (an
 * `IndexProvider`, which reads through the index client: PEP 658 is absent, so ranges or a
 * download).
 *
 * @throws {DownloadError} ("invalid-input") for VCS, directory and other references that are not archive files, and
 * for two different references to one project.
 */
export async function withDirectReferences(
  inner: Provider,
  requirements: readonly Requirement[],
  hashes: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
  build: { builder: Builder | undefined; vcs: Map<string, PinnedVcs> } = {
    builder: undefined,
    vcs: new Map(),
  },
): Promise<Provider> {
  const direct = new Map<string, Direct>();
  for (const req of requirements) {
    if (req.url === undefined) continue;
    if (await needsBuild(req.url)) {
      const builder = build.builder;
      const source = buildSourceOf(req.url, req.normalizedName);
      if (source === undefined) {
        throw new DownloadError("invalid-input", `${req}: "${req.url}" cannot be built`);
      }
      if (builder === undefined) {
        throw new DownloadError(
          "build-failed",
          `--no-build: ${req} needs a build (a ${
            source.kind === "git" ? "git checkout" : "source folder"
          })`,
        );
      }
      const known = direct.get(req.normalizedName);
      if (known !== undefined && known.url !== req.url) {
        throw new DownloadError(
          "invalid-input",
          `${req.name} is given by two different references`,
        );
      }
      // Built once, when the resolver first asks: an sdist in the build cache, its commit pinned.
      const candidate = builder.frontend.buildSdist(source).then((sdist) => {
        if (source.kind === "git" && sdist.source.commit !== undefined) {
          build.vcs.set(req.normalizedName, {
            url: source.url,
            ...(source.rev !== undefined ? { requestedRevision: source.rev } : {}),
            commitId: sdist.source.commit,
          });
        }
        const [c] = candidatesFromFiles([{
          filename: sdist.filename,
          url: pathToFileURL(sdist.path).href,
          hashes: {},
          yanked: false,
          coreMetadata: false,
          index: source.kind === "git" ? `git ${source.url}` : `folder ${source.path}`,
          parsed: parseDistFilename(sdist.filename, req.name),
        }]);
        return c!;
      });
      candidate.catch(() => {});
      direct.set(req.normalizedName, { candidate, url: req.url });
      continue;
    }
    const f = directFile(req);
    // `name @ url --hash=sha256:…` (as pip-compile writes it): the one given hash is the file's.
    const given = [...(hashes.get(req.normalizedName) ?? [])].filter((h) =>
      h.startsWith("sha256:")
    );
    if (f.sha256 === undefined && given.length === 1) f.sha256 = given[0]!.slice("sha256:".length);
    const known = direct.get(req.normalizedName);
    if (known !== undefined && known.url !== f.url) {
      throw new DownloadError("invalid-input", `${req.name} is given by two different references`);
    }
    const [candidate] = candidatesFromFiles([{
      filename: f.filename,
      url: f.url,
      hashes: f.sha256 !== undefined ? { sha256: f.sha256 } : {},
      yanked: false,
      coreMetadata: false,
      index: "direct reference",
      parsed: f.parsed,
    }]);
    direct.set(req.normalizedName, { candidate: Promise.resolve(candidate!), url: f.url });
  }
  if (direct.size === 0) return inner;
  return {
    ...(inner.prefetch !== undefined ? { prefetch: inner.prefetch } : {}),
    versions(name, options) {
      const d = direct.get(name);
      return d !== undefined
        ? d.candidate.then((c) => ({ kind: "found", candidates: [c] }))
        : inner.versions(name, options);
    },
    metadata: (name, candidate, options) => inner.metadata(name, candidate, options),
  };
}
