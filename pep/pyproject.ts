/**
 * The parts of `pyproject.toml` a downloader needs: `[project]` name, version,
 * requires-python, dependencies and optional-dependencies (PEP 621), and
 * `[dependency-groups]` (PEP 735) with `{include-group = "..."}` resolved.
 *
 * @module
 */

import { normalizeName } from "./name.ts";
import { Requirement } from "./requirement.ts";
import { SpecifierSet } from "./specifier.ts";
import { fileReader, isTable, parseTomlFile, type Table } from "./_toml.ts";
import { TomlFileError } from "./toml_file_error.ts";

/** Why a pyproject.toml was rejected (or a selection from it failed). */
export type PyprojectErrorCode =
  | "toml"
  | "invalid-value"
  | "invalid-requirement"
  | "duplicate-name"
  | "unknown-group"
  | "group-cycle"
  | "unknown-extra";

/** A pyproject.toml that cannot be used; `line`/`column` are set for TOML syntax errors. */
export class PyprojectError extends TomlFileError<PyprojectErrorCode> {
  /** Always `"PyprojectError"`. */
  override readonly name = "PyprojectError";
}

/** What {@linkcode parsePyproject} reads. */
export interface Pyproject {
  /** `project.name`, as written. */
  readonly name?: string;
  /** `project.version`, as written (absent when dynamic). */
  readonly version?: string;
  /** `project.requires-python`. */
  readonly requiresPython?: SpecifierSet;
  /** `project.dependencies`. */
  readonly dependencies: readonly Requirement[];
  /** `project.optional-dependencies`, keyed by normalised extra name. */
  readonly optionalDependencies: ReadonlyMap<string, readonly Requirement[]>;
  /**
   * `[dependency-groups]`, keyed by normalised group name, includes expanded. uv's legacy
   * `tool.uv.dev-dependencies` is appended to the `dev` group, as uv does.
   */
  readonly dependencyGroups: ReadonlyMap<string, readonly Requirement[]>;
  /** `project.dynamic`. */
  readonly dynamic: readonly string[];
}

/** Options for {@linkcode parsePyproject}. */
export interface ParsePyprojectOptions {
  /** Label for error messages; default `"pyproject.toml"`. */
  readonly path?: string;
}

/**
 * Parse a pyproject.toml.
 *
 * @param text The file's text.
 * @param options `path`, the label for error messages.
 * @returns The project's requirements.
 * @throws {PyprojectError} On invalid TOML (with line and column), invalid values or
 * requirements, duplicate normalised names, unknown or cyclic `include-group`.
 * @example
 * ```ts
 * import { parsePyproject } from "./pyproject.ts";
 * const p = parsePyproject(`
 * [project]
 * name = "demo"
 * dependencies = ["attrs"]
 * [dependency-groups]
 * test = ["pytest"]
 * dev = [{include-group = "test"}, "ruff"]
 * `);
 * if (p.dependencyGroups.get("dev")?.map((r) => r.name).join() !== "pytest,ruff") {
 *   throw new Error("include-group");
 * }
 * ```
 */
export function parsePyproject(text: string, options: ParsePyprojectOptions = {}): Pyproject {
  const file = options.path ?? "pyproject.toml";
  const doc = parseTomlFile(text, file, PyprojectError);
  const r = fileReader(file, PyprojectError, { invalid: "invalid-value" });
  const requirement = (text: string, path: string): Requirement => {
    try {
      return Requirement.parse(text);
    } catch (error) {
      throw new PyprojectError(
        `${path} is not a valid requirement ("${text}"): ${(error as Error).message}`,
        { code: "invalid-requirement", file, cause: error },
      );
    }
  };

  const project = r.table(doc, "project", "") ?? {};
  const name = r.string(project, "name", "project");
  const version = r.string(project, "version", "project");
  const rp = r.string(project, "requires-python", "project");
  let requiresPython: SpecifierSet | undefined;
  if (rp !== undefined) {
    try {
      requiresPython = SpecifierSet.parse(rp);
    } catch (error) {
      throw new PyprojectError(
        `project.requires-python "${rp}" is invalid: ${(error as Error).message}`,
        { code: "invalid-value", file, cause: error },
      );
    }
  }
  const dependencies = (r.strings(project, "dependencies", "project") ?? []).map((d, i) =>
    requirement(d, `project.dependencies[${i}]`)
  );
  const optionalDependencies = new Map<string, Requirement[]>();
  const optional = r.table(project, "optional-dependencies", "project") ?? {};
  for (const extra of Object.keys(optional)) {
    const key = normalizeName(extra);
    if (optionalDependencies.has(key)) {
      throw new PyprojectError(
        `project.optional-dependencies has two extras that normalise to "${key}"`,
        { code: "duplicate-name", file },
      );
    }
    const path = `project.optional-dependencies.${extra}`;
    const list = r.strings(optional, extra, "project.optional-dependencies") ?? [];
    optionalDependencies.set(key, list.map((d, i) => requirement(d, `${path}[${i}]`)));
  }
  const dynamic = r.strings(project, "dynamic", "project") ?? [];

  const groupsTable = r.table(doc, "dependency-groups", "") ?? {};
  const uvDev = r.strings(
    r.table(r.table(doc, "tool", "") ?? {}, "uv", "tool") ?? {},
    "dev-dependencies",
    "tool.uv",
  );
  const dependencyGroups = resolveGroups(groupsTable, uvDev, file, requirement);

  return {
    ...(name === undefined ? {} : { name }),
    ...(version === undefined ? {} : { version }),
    ...(requiresPython === undefined ? {} : { requiresPython }),
    dependencies,
    optionalDependencies,
    dependencyGroups,
    dynamic,
  };
}

// PEP 735: group names are normalised and must be unique after normalisation; entries are
// requirement strings or {include-group = "name"}; include cycles are errors.
function resolveGroups(
  table: Table,
  uvDev: string[] | undefined,
  file: string,
  requirement: (text: string, path: string) => Requirement,
): Map<string, Requirement[]> {
  const raw = new Map<string, { original: string; entries: unknown[] }>();
  for (const [group, value] of Object.entries(table)) {
    const key = normalizeName(group);
    const existing = raw.get(key);
    if (existing !== undefined) {
      throw new PyprojectError(
        `dependency-groups "${existing.original}" and "${group}" normalise to the same name "${key}"`,
        { code: "duplicate-name", file },
      );
    }
    if (!Array.isArray(value)) {
      throw new PyprojectError(`dependency-groups.${group} must be an array`, {
        code: "invalid-value",
        file,
      });
    }
    raw.set(key, { original: group, entries: value });
  }
  const resolved = new Map<string, Requirement[]>();
  const visit = (key: string, stack: string[]): Requirement[] => {
    const done = resolved.get(key);
    if (done !== undefined) return done;
    const group = raw.get(key)!;
    if (stack.includes(key)) {
      const cycle = [...stack.slice(stack.indexOf(key)), key]
        .map((k) => raw.get(k)?.original ?? k).join(" -> ");
      throw new PyprojectError(`dependency-groups include each other: ${cycle}`, {
        code: "group-cycle",
        file,
      });
    }
    const out: Requirement[] = [];
    group.entries.forEach((entry, i) => {
      const path = `dependency-groups.${group.original}[${i}]`;
      if (typeof entry === "string") {
        out.push(requirement(entry, path));
      } else if (
        isTable(entry) && Object.keys(entry).length === 1 &&
        typeof entry["include-group"] === "string"
      ) {
        const target = normalizeName(entry["include-group"]);
        if (!raw.has(target)) {
          throw new PyprojectError(
            `${path} includes the group "${entry["include-group"]}", which is not defined`,
            { code: "unknown-group", file },
          );
        }
        out.push(...visit(target, [...stack, key]));
      } else {
        throw new PyprojectError(
          `${path} must be a requirement string or {include-group = "<name>"}`,
          { code: "invalid-value", file },
        );
      }
    });
    resolved.set(key, out);
    return out;
  };
  for (const key of raw.keys()) visit(key, []);
  if (uvDev !== undefined && uvDev.length > 0) {
    const dev = resolved.get("dev") ?? [];
    resolved.set("dev", [
      ...dev,
      ...uvDev.map((d, i) => requirement(d, `tool.uv.dev-dependencies[${i}]`)),
    ]);
  }
  return resolved;
}

/** Options for {@linkcode selectPyprojectRequirements}. */
export interface SelectPyprojectOptions {
  /** Extras to add, or `"all"`; names are normalised before lookup. */
  readonly extras?: readonly string[] | "all";
  /** Dependency groups to add; names are normalised before lookup. */
  readonly groups?: readonly string[];
}

/**
 * The requirements to resolve for a project: its dependencies, plus the chosen extras' and
 * dependency groups' requirements (in that order, without exact duplicates).
 *
 * @param p A parsed pyproject.
 * @param options `extras` (or `"all"`) and `groups`.
 * @returns The requirements.
 * @throws {PyprojectError} With code `"unknown-extra"` or `"unknown-group"` for a name the
 * project does not define.
 * @example
 * ```ts
 * import { parsePyproject, selectPyprojectRequirements } from "./pyproject.ts";
 * const p = parsePyproject(
 *   '[project]\nname = "x"\ndependencies = ["a"]\n[project.optional-dependencies]\nfast = ["b"]\n',
 * );
 * const names = selectPyprojectRequirements(p, { extras: "all" }).map((r) => r.name);
 * if (names.join() !== "a,b") throw new Error(names.join());
 * ```
 */
export function selectPyprojectRequirements(
  p: Pyproject,
  options: SelectPyprojectOptions = {},
): Requirement[] {
  const out: Requirement[] = [...p.dependencies];
  const extras = options.extras === "all"
    ? [...p.optionalDependencies.keys()]
    : (options.extras ?? []).map(normalizeName);
  for (const extra of extras) {
    const list = p.optionalDependencies.get(extra);
    if (list === undefined) {
      throw new PyprojectError(
        `the project has no extra "${extra}" (known: ${
          [...p.optionalDependencies.keys()].join(", ") || "none"
        })`,
        { code: "unknown-extra", file: p.name ?? "pyproject.toml" },
      );
    }
    out.push(...list);
  }
  for (const group of (options.groups ?? []).map(normalizeName)) {
    const list = p.dependencyGroups.get(group);
    if (list === undefined) {
      throw new PyprojectError(
        `the project has no dependency group "${group}" (known: ${
          [...p.dependencyGroups.keys()].join(", ") || "none"
        })`,
        { code: "unknown-group", file: p.name ?? "pyproject.toml" },
      );
    }
    out.push(...list);
  }
  const seen = new Set<string>();
  return out.filter((r) => {
    const key = r.toString();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
