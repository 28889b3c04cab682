// Gathers what to resolve from the given requirements, requirement files and pyproject.toml,
// merging the index and binary options that pip lets requirement files carry.
import * as fsp from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parsePyproject, selectPyprojectRequirements } from "../pep/pyproject.ts";
import type { Requirement } from "../pep/requirement.ts";
import {
  parseRequirementLine,
  parseRequirementsFile,
  type RequirementsFile,
  RequirementsFileError,
} from "../pep/requirements_file.ts";
import { DownloadError, type DownloadOptions } from "./types.ts";
import { checkBinaryPolicy } from "./_check.ts";

/** Everything a resolution needs from the user's inputs. */
export interface Inputs {
  requirements: Requirement[];
  constraints: Requirement[];
  /** Hashes pinned in requirement files (`--hash`), by normalised project name. */
  hashes: Map<string, Set<string>>;
  indexUrl: string | undefined;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
  pre: boolean;
  onlyBinary: string[];
  noBinary: string[];
  preferBinary: boolean;
  requireHashes: boolean;
  /** Requires-Python of a pyproject, checked against each target. */
  projectRequiresPython: string | undefined;
}

/** Reads text files for the input parsers. */
export type ReadText = (path: string) => Promise<string>;

/** The options that say what to resolve. */
export type InputOptions = Pick<
  DownloadOptions,
  | "requirements"
  | "requirementFiles"
  | "constraintFiles"
  | "project"
  | "extras"
  | "allExtras"
  | "groups"
  | "indexUrl"
  | "extraIndexUrls"
  | "noIndex"
  | "findLinks"
  | "pre"
  | "onlyBinary"
  | "noBinary"
  | "preferBinary"
  | "requireHashes"
>;

/** Why a file could not be read, in a few words (no path: callers name the file). */
function readFailure(e: unknown): string {
  const code = typeof e === "object" && e !== null && "code" in e ? e.code : undefined;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  // The session's reader stops at its cap ("larger than 16 MiB"); node's readFile at 2 GiB.
  if (code === "ERR_FS_FILE_TOO_LARGE" && e instanceof Error && /^larger than/.test(e.message)) {
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Whether a read failed because the file is over the reader's cap (anywhere in the causes). */
function tooLarge(e: unknown): boolean {
  for (let c = e, depth = 0; c instanceof Error && depth < 4; c = c.cause, depth++) {
    if ("code" in c && c.code === "ERR_FS_FILE_TOO_LARGE") return true;
  }
  return false;
}

/**
 * The find-links locations that cannot be used, as pip's warnings (pip's `build_source`): a path
 * that does not exist, or a `file:` URL (or path) that is neither a file nor a folder. Remote
 * URLs are not checked here; the index client reports them when it asks.
 *
 * @param links Find-links as gathered (paths absolute, URLs as given).
 * @returns One warning per unusable location, in order.
 */
export async function ignoredFindLinks(links: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const link of new Set(links)) {
    const isFileUrl = /^file:/i.test(link);
    if (!isFileUrl && /^[a-z][a-z0-9+.-]*:\/\//i.test(link)) continue;
    let path: string | undefined;
    try {
      path = isFileUrl ? fileURLToPath(link) : link;
    } catch {
      path = undefined;
    }
    const st = path === undefined ? undefined : await fsp.stat(path).catch(() => undefined);
    if (st?.isDirectory() || st?.isFile()) continue;
    out.push(
      st === undefined && !isFileUrl
        ? `Location '${link}' is ignored: it is either a non-existing path or lacks a specific scheme.`
        : `Location '${link}' is ignored: it is neither a file nor a directory.`,
    );
  }
  return out;
}

/** A `--find-links` value: a URL as is, a path made absolute. */
export function absoluteLink(link: string, cwd: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(link) ? link : resolve(cwd, link);
}

/**
 * Reads a file, turning "not found" and friends into one-line input errors.
 *
 * @param what What the file should be ("a pyproject.toml"), said when it is over the size cap.
 */
export function readTextOrFail(read: ReadText, what?: string): ReadText {
  return async (path) => {
    try {
      return await read(path);
    } catch (e) {
      throw new DownloadError(
        "invalid-input",
        `Cannot read "${path}": ${readFailure(e)}${
          tooLarge(e) && what !== undefined ? `; not ${what}` : ""
        }`,
      );
    }
  };
}

/** For parsers that name the file themselves: errors carry only the reason. */
function readTextReason(read: ReadText): ReadText {
  return async (path) => {
    try {
      return await read(path);
    } catch (e) {
      throw new Error(readFailure(e), { cause: e });
    }
  };
}

function rejectUrl(flag: string, file: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) && !/^file:/i.test(file)) {
    throw new DownloadError(
      "invalid-input",
      `${flag} ${file}: requirement files are read from disk; download it first (URLs are not fetched)`,
    );
  }
}

/**
 * A project folder named on the command line (`./proj`, as `pip download ./proj` takes it):
 * `name @ file:///…/proj`, its name read from `pyproject.toml` (`[project] name`) or
 * `setup.cfg` (`[metadata] name`); undefined for anything that is not a folder.
 */
async function folderRequirement(text: string, cwd: string): Promise<string | undefined> {
  if (text.includes("@") || /^[a-z][a-z0-9+.-]*:/i.test(text)) return undefined;
  if (!/^[.~/\\]/.test(text) && !text.includes("/") && !text.includes("\\")) return undefined;
  const dir = resolve(cwd, text);
  const st = await fsp.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  const read = (name: string) => fsp.readFile(join(dir, name), "utf8").catch(() => undefined);
  let name: string | undefined;
  const pyproject = await read("pyproject.toml");
  if (pyproject !== undefined) {
    name = /^\[project\][^[]*?^name\s*=\s*["']([^"']+)["']/ms.exec(pyproject)?.[1];
  }
  if (name === undefined) {
    const cfg = await read("setup.cfg");
    if (cfg !== undefined) name = /^\[metadata\][^[]*?^name\s*=\s*(\S+)/ms.exec(cfg)?.[1];
  }
  if (name === undefined) {
    throw new DownloadError(
      "invalid-input",
      `Cannot tell the project name of the folder "${text}" (no [project] name in pyproject.toml, no [metadata] name in setup.cfg): write "<name> @ ${
        pathToFileURL(dir).href
      }"`,
    );
  }
  return `${name} @ ${pathToFileURL(dir).href}`;
}

/** A command-line requirement, parsed as pip does: archive paths and relative `file:` URLs too. */
function parseArgRequirement(text: string, cwd: string): Requirement {
  try {
    return parseRequirementLine(text, { cwd });
  } catch (e) {
    if (e instanceof SyntaxError) {
      const reason = e.message.replace(/^<command line> line 1(, column \d+)?: /, "");
      throw new DownloadError("invalid-input", `Invalid requirement "${text}": ${reason}`);
    }
    throw e;
  }
}

function isPyproject(path: string): boolean {
  return basename(path) === "pyproject.toml";
}

/** Where {@linkcode gatherInputs} reads from. */
export interface GatherContext {
  /** The folder relative paths are resolved against. */
  cwd: string;
  /** Reads a file as text. */
  read: ReadText;
  /** Looks up `${VAR}` references in requirement files. */
  env: (name: string) => string | undefined;
}

/**
 * Collects requirements, constraints and options from the requirements given, requirement and
 * constraint files, and a project's pyproject.toml.
 *
 * @throws {DownloadError} ("invalid-input") for unreadable files and invalid requirements.
 * @throws {SyntaxError} subclasses from the file parsers, with file and line.
 */
export async function gatherInputs(
  options: InputOptions,
  context: GatherContext,
): Promise<Inputs> {
  const { cwd, read, env } = context;
  const readPyproject = readTextOrFail(read, "a pyproject.toml");
  const inputs: Inputs = {
    requirements: await Promise.all(
      (options.requirements ?? []).map(async (r) =>
        parseArgRequirement((await folderRequirement(r, cwd)) ?? r, cwd)
      ),
    ),
    constraints: [],
    hashes: new Map(),
    indexUrl: options.indexUrl,
    extraIndexUrls: [...(options.extraIndexUrls ?? [])],
    findLinks: (options.findLinks ?? []).map((f) => absoluteLink(f, cwd)),
    noIndex: options.noIndex ?? false,
    pre: options.pre ?? false,
    onlyBinary: [...(options.onlyBinary ?? [])],
    noBinary: [...(options.noBinary ?? [])],
    preferBinary: options.preferBinary ?? false,
    requireHashes: options.requireHashes ?? false,
    projectRequiresPython: undefined,
  };
  const extras = options.extras ?? [];
  const groups = options.groups ?? [];
  const pyprojects: string[] = [];
  if (options.project !== undefined) {
    pyprojects.push(resolve(cwd, options.project, "pyproject.toml"));
  }
  const envRecord: Record<string, string | undefined> = new Proxy({}, {
    get: (_t, key) => typeof key === "string" ? env(key) : undefined,
  });
  const readRequirementsFile = async (
    flag: "-r" | "-c",
    file: string,
    path: string,
  ): Promise<RequirementsFile> => {
    try {
      return await parseRequirementsFile(path, {
        // Paths on requirement lines are relative to the file that holds them.
        reader: { readFile: readTextReason(read) },
        env: envRecord,
      });
    } catch (e) {
      // The file given is over the cap: say so by the option (an included one keeps file:line).
      if (
        e instanceof RequirementsFileError && e.code === "read-failed" && e.line === 0 &&
        tooLarge(e)
      ) {
        throw new DownloadError(
          "invalid-input",
          `${flag} ${file}: ${readFailure(e.cause)}; not a ${
            flag === "-r" ? "requirements" : "constraints"
          } file`,
        );
      }
      throw e;
    }
  };
  for (const file of options.requirementFiles ?? []) {
    rejectUrl("-r", file);
    const path = resolve(cwd, file);
    if (isPyproject(path)) {
      pyprojects.push(path);
      continue;
    }
    const parsed = await readRequirementsFile("-r", file, path);
    mergeFile(inputs, parsed, "requirements");
  }
  for (const file of options.constraintFiles ?? []) {
    rejectUrl("-c", file);
    const parsed = await readRequirementsFile("-c", file, resolve(cwd, file));
    mergeFile(inputs, parsed, "constraints");
  }
  for (const path of pyprojects) {
    const project = parsePyproject(await readPyproject(path), { path });
    inputs.requirements.push(
      ...selectPyprojectRequirements(project, {
        extras: options.allExtras ? "all" : extras,
        groups,
      }),
    );
    if (project.requiresPython !== undefined) {
      inputs.projectRequiresPython = project.requiresPython.toString();
    }
  }
  if (pyprojects.length === 0 && (extras.length > 0 || groups.length > 0)) {
    throw new DownloadError(
      "invalid-input",
      "--extra and --group need a project: pass --project DIR or -r pyproject.toml",
    );
  }
  // The command line's values were checked on their own; a file's may contradict them.
  checkBinaryPolicy(inputs.onlyBinary, inputs.noBinary, " (with the requirement files' options)");
  // pip: a constraint limits versions; it cannot ask for extras or name a file.
  const bad = inputs.constraints.filter((c) => c.extras.length > 0 || c.url !== undefined);
  if (bad.length > 0) {
    throw new DownloadError(
      "invalid-input",
      `Constraints cannot have extras or URLs: ${bad.map((c) => c.toString()).join(", ")}`,
    );
  }
  return inputs;
}

function mergeFile(
  inputs: Inputs,
  file: RequirementsFile,
  as: "requirements" | "constraints",
): void {
  const lines = as === "requirements"
    ? file.requirements
    : [...file.requirements, ...file.constraints];
  for (const line of lines) {
    (as === "requirements" ? inputs.requirements : inputs.constraints).push(line.requirement);
    if (line.hashes.length > 0) {
      const set = inputs.hashes.get(line.requirement.normalizedName) ?? new Set<string>();
      for (const h of line.hashes) set.add(h.toLowerCase());
      inputs.hashes.set(line.requirement.normalizedName, set);
    }
  }
  if (as === "requirements") {
    for (const line of file.constraints) inputs.constraints.push(line.requirement);
  }
  // pip: an index URL on the command line wins over the one in a file.
  if (file.indexUrl !== undefined && inputs.indexUrl === undefined) inputs.indexUrl = file.indexUrl;
  inputs.extraIndexUrls.push(...file.extraIndexUrls);
  inputs.findLinks.push(...file.findLinks);
  inputs.noIndex ||= file.noIndex;
  inputs.pre ||= file.pre;
  inputs.onlyBinary.push(...file.onlyBinary);
  inputs.noBinary.push(...file.noBinary);
  inputs.preferBinary ||= file.preferBinary;
  inputs.requireHashes ||= file.requireHashes;
}
