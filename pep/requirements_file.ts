/**
 * pip's requirement-file format (`requirements.txt`), following pip's `req_file.py`:
 * comments, `\` continuations, `${VAR}` expansion, nested `-r`/`-c` files, the index and
 * format options, and per-requirement `--hash`. Reading files is injected, so parsing is pure.
 *
 * @module
 */

import { dirname, isAbsolute, join, normalize } from "node:path";
import { pathToFileURL } from "node:url";
import { normalizeName } from "./name.ts";
import { Requirement } from "./requirement.ts";

/** Reads a requirement file by path (or URL, if the reader supports them). */
export interface RequirementsFileReader {
  /**
   * Return the text of the file.
   *
   * @param path The path as resolved against the including file, or a URL.
   */
  readFile(path: string): Promise<string>;
}

/** Where a requirement came from. */
export interface RequirementSource {
  /** The file, as passed to the reader. */
  readonly file: string;
  /** 1-based line number (the first physical line of a continued line). */
  readonly line: number;
}

/** One requirement (or constraint) line. */
export interface RequirementLine {
  /** The parsed requirement; bare archive paths and URLs become `name @ url`. */
  readonly requirement: Requirement;
  /** `--hash` values in order, as `"sha256:<hex>"`. */
  readonly hashes: readonly string[];
  /** Where the line is. */
  readonly source: RequirementSource;
  /** Always false: editable lines are rejected (see {@linkcode parseRequirementsFile}). */
  readonly editable: false;
}

/** Everything a requirement file (and the files it includes) says. */
export interface RequirementsFile {
  /** Requirements in file order, nested `-r` files expanded in place. */
  readonly requirements: readonly RequirementLine[];
  /** Constraints from `-c` files (and files they include). */
  readonly constraints: readonly RequirementLine[];
  /** `-i/--index-url`; the last one read wins, as in pip. */
  readonly indexUrl?: string;
  /** `--extra-index-url` values in order, without duplicates. */
  readonly extraIndexUrls: readonly string[];
  /** `-f/--find-links` values; relative paths are joined to the including file's folder. */
  readonly findLinks: readonly string[];
  /** `--no-index` was given. */
  readonly noIndex: boolean;
  /** `--pre` was given. */
  readonly pre: boolean;
  /** `--only-binary` set: `":all:"` or normalised names. */
  readonly onlyBinary: readonly string[];
  /** `--no-binary` set: `":all:"` or normalised names. */
  readonly noBinary: readonly string[];
  /** `--prefer-binary` was given. */
  readonly preferBinary: boolean;
  /** `--require-hashes` was given. */
  readonly requireHashes: boolean;
  /** `--trusted-host` values in order. */
  readonly trustedHosts: readonly string[];
  /** Every file read, in the order it was read. */
  readonly files: readonly string[];
}

/** Why a requirement file was rejected. */
export type RequirementsFileErrorCode =
  | "read-failed"
  | "cycle"
  | "invalid-requirement"
  | "invalid-option"
  | "unknown-option"
  | "missing-value"
  | "invalid-hash"
  | "unsupported-editable"
  | "unnamed-requirement"
  | "relative-path";

/** A requirement file that cannot be read; `line` and `column` are 1-based (0 = unknown). */
export class RequirementsFileError extends SyntaxError {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override readonly name = "RequirementsFileError";
  /** Machine-readable reason. */
  readonly code: RequirementsFileErrorCode;
  /** The file the problem is in. */
  readonly file: string;
  /** 1-based line, 0 when the problem is the file as a whole. */
  readonly line: number;
  /** 1-based column in the logical (joined, comment-stripped) line, 0 when unknown. */
  readonly column: number;

  /**
   * Create the error; the message is prefixed with `file line N: `.
   *
   * @param message What failed and why.
   * @param options Location, `code` and optional `cause`.
   */
  constructor(
    message: string,
    options: {
      code: RequirementsFileErrorCode;
      file: string;
      line: number;
      column?: number;
      cause?: unknown;
    },
  ) {
    super(
      `${options.file}${options.line > 0 ? ` line ${options.line}` : ""}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = options.code;
    this.file = options.file;
    this.line = options.line;
    this.column = options.column ?? 0;
  }
}

/** Options for {@linkcode parseRequirementsFile}. */
export interface ParseRequirementsFileOptions {
  /** Reads the top file and every included file. */
  readonly reader: RequirementsFileReader;
  /** Values for `${VAR}` expansion; unset or empty variables are left as written (pip). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Folder that relative archive/directory paths on requirement lines are resolved against.
   * The default is each file's own folder (an included file's paths are relative to it).
   */
  readonly cwd?: string;
}

interface State {
  requirements: RequirementLine[];
  constraints: RequirementLine[];
  indexUrl: string | undefined;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
  pre: boolean;
  onlyBinary: Set<string>;
  noBinary: Set<string>;
  preferBinary: boolean;
  requireHashes: boolean;
  trustedHosts: string[];
  files: string[];
}

type OptionKey =
  | "index-url"
  | "extra-index-url"
  | "no-index"
  | "constraint"
  | "requirement"
  | "editable"
  | "find-links"
  | "no-binary"
  | "only-binary"
  | "prefer-binary"
  | "require-hashes"
  | "pre"
  | "trusted-host"
  | "use-feature"
  | "global-option"
  | "config-settings"
  | "hash";

// pip's SUPPORTED_OPTIONS and SUPPORTED_OPTIONS_REQ (req_file.py); the last three only matter
// to builds or to requirement lines.
const OPTIONS: readonly { long: OptionKey; short?: string; value: boolean }[] = [
  { long: "index-url", short: "i", value: true },
  { long: "extra-index-url", value: true },
  { long: "no-index", value: false },
  { long: "constraint", short: "c", value: true },
  { long: "requirement", short: "r", value: true },
  { long: "editable", short: "e", value: true },
  { long: "find-links", short: "f", value: true },
  { long: "no-binary", value: true },
  { long: "only-binary", value: true },
  { long: "prefer-binary", value: false },
  { long: "require-hashes", value: false },
  { long: "pre", value: false },
  { long: "trusted-host", value: true },
  { long: "use-feature", value: true },
  { long: "global-option", value: true },
  { long: "config-settings", short: "C", value: true },
  { long: "hash", value: true },
];

const SCHEME_RE = /^(http|https|file):/i;
const URL_RE = /^(?:(?:git|hg|svn|bzr)\+)?(?:https?|file|ftp|ssh|git|svn|hg|bzr)(?:\+[a-z]+)?:/i;
const COMMENT_RE = /(^|\s+)#.*$/;
const ENV_VAR_RE = /\$\{([A-Z0-9_]+)\}/g;
const ARCHIVE_RE = /\.(whl|zip|tar\.gz|tgz|tar|tar\.bz2|tbz|tar\.xz|txz|tlz|tar\.lz|tar\.lzma)$/i;
const NAMED_URL_RE = /^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@/;
const STRONG_HASHES: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Parse a pip requirement file and every file it includes with `-r`/`-c`.
 *
 * Editable lines (`-e`/`--editable`) are rejected with code `"unsupported-editable"`: a wheel
 * downloader has nothing to fetch for a local source tree. A bare URL or archive path needs a
 * name (`#egg=name`, or a wheel filename); without one the line is rejected with code
 * `"unnamed-requirement"`. Nested files are resolved against the including file's folder
 * (or URL); including a file that is already being read is a `"cycle"` error.
 *
 * @param path The top-level file, as the reader understands it.
 * @param options The `reader`, and optional `env` and `cwd`.
 * @returns Requirements, constraints and options.
 * @throws {RequirementsFileError} When a file cannot be read or has an invalid line.
 * @example
 * ```ts
 * import { parseRequirementsFile } from "./requirements_file.ts";
 * const files: Record<string, string> = {
 *   "/p/requirements.txt": "-r base.txt\nrequests==2.31.0 \\\n  --hash=sha256:" + "a".repeat(64),
 *   "/p/base.txt": "--index-url ${INDEX}\nattrs>=20  # comment\n",
 * };
 * const parsed = await parseRequirementsFile("/p/requirements.txt", {
 *   reader: { readFile: (p) => Promise.resolve(files[p] ?? "") },
 *   env: { INDEX: "https://example.org/simple" },
 * });
 * if (parsed.requirements.map((r) => r.requirement.name).join() !== "attrs,requests") {
 *   throw new Error("order");
 * }
 * if (parsed.indexUrl !== "https://example.org/simple") throw new Error("env var");
 * if (parsed.requirements[1]?.hashes.length !== 1) throw new Error("hash");
 * ```
 */
export async function parseRequirementsFile(
  path: string,
  options: ParseRequirementsFileOptions,
): Promise<RequirementsFile> {
  const state: State = {
    requirements: [],
    constraints: [],
    indexUrl: undefined,
    extraIndexUrls: [],
    findLinks: [],
    noIndex: false,
    pre: false,
    onlyBinary: new Set(),
    noBinary: new Set(),
    preferBinary: false,
    requireHashes: false,
    trustedHosts: [],
    files: [],
  };
  await parseFile(path, false, [], state, { ...options, cwd: options.cwd }, undefined);
  return {
    requirements: state.requirements,
    constraints: state.constraints,
    ...(state.indexUrl === undefined ? {} : { indexUrl: state.indexUrl }),
    extraIndexUrls: state.extraIndexUrls,
    findLinks: state.findLinks,
    noIndex: state.noIndex,
    pre: state.pre,
    onlyBinary: [...state.onlyBinary],
    noBinary: [...state.noBinary],
    preferBinary: state.preferBinary,
    requireHashes: state.requireHashes,
    trustedHosts: state.trustedHosts,
    files: state.files,
  };
}

interface Context {
  readonly reader: RequirementsFileReader;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd: string | undefined;
}

async function parseFile(
  file: string,
  constraint: boolean,
  stack: readonly string[],
  state: State,
  ctx: Context,
  from: RequirementSource | undefined,
): Promise<void> {
  const key = SCHEME_RE.test(file) ? file : normalize(file);
  if (stack.includes(key)) {
    const cycle = [...stack.slice(stack.indexOf(key)), key].join(" -> ");
    throw new RequirementsFileError(`requirement files include each other: ${cycle}`, {
      code: "cycle",
      file: from?.file ?? file,
      line: from?.line ?? 0,
    });
  }
  let content: string;
  try {
    content = await ctx.reader.readFile(file);
  } catch (error) {
    const why = SCHEME_RE.test(file) && !/^file:/i.test(file)
      ? ` (the reader does not fetch URLs: ${(error as Error).message})`
      : `: ${(error as Error)?.message ?? String(error)}`;
    // The message is prefixed with the including file; name the read file only when it differs.
    throw new RequirementsFileError(
      from === undefined ? `cannot read it${why}` : `cannot read "${file}"${why}`,
      {
        code: "read-failed",
        file: from?.file ?? file,
        line: from?.line ?? 0,
        cause: error,
      },
    );
  }
  state.files.push(file);
  const innerStack = [...stack, key];
  for (const [lineNumber, line] of preprocess(content, ctx.env ?? {})) {
    const source = { file, line: lineNumber };
    const { args, optionText } = breakArgsOptions(line);
    const opts = parseOptions(optionText, source, args.length);
    const fail = (message: string, code: RequirementsFileErrorCode, column = 1, cause?: unknown) =>
      new RequirementsFileError(message, { code, file, line: lineNumber, column, cause });

    if (args !== "") {
      // Relative archive paths are relative to the file that names them (an included file's
      // own folder), unless the caller fixed one folder for all.
      const requirement = toRequirement(
        args,
        source,
        ctx.cwd ?? (SCHEME_RE.test(file) ? undefined : dirname(file)),
      );
      const hashes = opts.get("hash") ?? [];
      for (const h of hashes) validateHash(h, fail);
      const entry: RequirementLine = { requirement, hashes, source, editable: false };
      (constraint ? state.constraints : state.requirements).push(entry);
      continue;
    }
    const editable = opts.get("editable");
    if (editable !== undefined) {
      throw fail(
        `editable requirements are not supported ("-e ${editable[0] ?? ""}")`,
        "unsupported-editable",
      );
    }
    const nested = opts.get("requirement") ?? opts.get("constraint");
    if (nested !== undefined && nested[0] !== undefined) {
      const isConstraint = opts.get("requirement") === undefined;
      await parseFile(
        resolveNested(file, nested[0]),
        isConstraint,
        innerStack,
        state,
        ctx,
        source,
      );
      continue;
    }
    applyOptions(opts, file, state, fail);
  }
}

function resolveNested(including: string, target: string): string {
  if (SCHEME_RE.test(including)) return new URL(target, including).href;
  if (SCHEME_RE.test(target) || isAbsolute(target)) return target;
  return join(dirname(including), target);
}

function applyOptions(
  opts: Map<OptionKey, string[]>,
  file: string,
  state: State,
  fail: (m: string, c: RequirementsFileErrorCode) => RequirementsFileError,
): void {
  if (opts.has("no-index")) state.noIndex = true;
  const index = opts.get("index-url");
  for (const url of index ?? []) checkIndexUrl("--index-url", url, fail);
  if (index !== undefined) state.indexUrl = index[index.length - 1];
  for (const url of opts.get("extra-index-url") ?? []) {
    checkIndexUrl("--extra-index-url", url, fail);
    if (!state.extraIndexUrls.includes(url)) state.extraIndexUrls.push(url);
  }
  for (const link of opts.get("find-links") ?? []) {
    // A path (or a drive letter, C:\wheels) is checked for existence by the caller, which can
    // look at the disk; anything with a scheme must be one that can be fetched.
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) && !/^[a-z]:[\\/]/i.test(link)) {
      checkIndexUrl("--find-links", link, fail);
    }
    // pip joins a find-links path to the file's folder (it also checks that it exists there,
    // which a pure parser cannot; URLs and absolute paths are kept as written).
    const resolved = URL_RE.test(link) || isAbsolute(link) || SCHEME_RE.test(file)
      ? link
      : join(dirname(file), link);
    if (!state.findLinks.includes(resolved)) state.findLinks.push(resolved);
  }
  if (opts.has("pre")) state.pre = true;
  if (opts.has("prefer-binary")) state.preferBinary = true;
  if (opts.has("require-hashes")) state.requireHashes = true;
  state.trustedHosts.push(...(opts.get("trusted-host") ?? []));
  for (const value of opts.get("no-binary") ?? []) {
    mutualExcludes(value, state.noBinary, state.onlyBinary, fail);
  }
  for (const value of opts.get("only-binary") ?? []) {
    mutualExcludes(value, state.onlyBinary, state.noBinary, fail);
  }
}

/**
 * An index or find-links URL must be http(s) or file: anything else (a typo, an unexpanded
 * `${VAR}`, `ftp://`) would only fail later, far from the line that says it. Credentials in the
 * URL are not repeated in the message.
 */
function checkIndexUrl(
  option: string,
  url: string,
  fail: (m: string, c: RequirementsFileErrorCode) => RequirementsFileError,
): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) {
    throw fail(
      `${option} expects an http(s):// or file:// URL, got "${
        url.replace(/\/\/[^/@]*@/, "//***@")
      }"`,
      "invalid-option",
    );
  }
  if (!["http:", "https:", "file:"].includes(parsed.protocol)) {
    throw fail(
      `${option} expects an http(s):// or file:// URL, got a ${parsed.protocol} URL`,
      "invalid-option",
    );
  }
}

// pip's cmdoptions.handle_mutual_excludes: ":all:" resets both sets, ":none:" clears the
// target, and a name moves from the other set to this one.
function mutualExcludes(
  value: string,
  target: Set<string>,
  other: Set<string>,
  fail: (m: string, c: RequirementsFileErrorCode) => RequirementsFileError,
): void {
  if (value.startsWith("-")) {
    throw fail(`--no-binary / --only-binary need a value, got "${value}"`, "missing-value");
  }
  for (const raw of value.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (name === ":all:") {
      other.clear();
      target.clear();
      target.add(":all:");
    } else if (name === ":none:") {
      target.clear();
    } else {
      const normalised = normalizeName(name);
      other.delete(normalised);
      target.add(normalised);
    }
  }
}

function validateHash(
  value: string,
  fail: (m: string, c: RequirementsFileErrorCode) => RequirementsFileError,
): void {
  const colon = value.indexOf(":");
  const algorithm = value.slice(0, colon).toLowerCase();
  const digest = value.slice(colon + 1);
  const length = STRONG_HASHES[algorithm];
  if (colon < 0 || length === undefined) {
    throw fail(
      `--hash "${value}" must be <algorithm>:<hex digest> with sha256, sha384 or sha512`,
      "invalid-hash",
    );
  }
  if (digest.length !== length || !/^[0-9a-fA-F]+$/.test(digest)) {
    throw fail(`--hash "${value}" is not a ${algorithm} hex digest`, "invalid-hash");
  }
}

/** Split, join `\` continuations, strip comments and blank lines, expand `${VAR}` (pip order). */
function preprocess(
  content: string,
  env: Readonly<Record<string, string | undefined>>,
): [number, string][] {
  const physical = content.split(/\r\n|\r|\n/);
  if (physical[physical.length - 1] === "") physical.pop();
  const joined: [number, string][] = [];
  let primary = 0;
  let parts: string[] = [];
  physical.forEach((raw, index) => {
    let line = raw;
    const lineNumber = index + 1;
    const isComment = /^\s*#/.test(line);
    if (!line.endsWith("\\") || isComment) {
      // A comment line ends a continuation (pip: "except when following comments").
      if (isComment) line = " " + line;
      if (parts.length > 0) {
        parts.push(line);
        joined.push([primary, parts.join("")]);
        parts = [];
      } else {
        joined.push([lineNumber, line]);
      }
    } else {
      if (parts.length === 0) primary = lineNumber;
      parts.push(line.replace(/^\\+|\\+$/g, ""));
    }
  });
  if (parts.length > 0) joined.push([primary, parts.join("")]);

  const out: [number, string][] = [];
  for (const [n, line] of joined) {
    const stripped = line.replace(COMMENT_RE, "").trim();
    if (stripped === "") continue;
    const expanded = stripped.replace(ENV_VAR_RE, (whole, name: string) => {
      const value = env[name];
      return value === undefined || value === "" ? whole : value;
    });
    out.push([n, expanded]);
  }
  return out;
}

/** pip's break_args_options: arguments run until the first token starting with "-". */
function breakArgsOptions(line: string): { args: string; optionText: string } {
  const tokens = line.split(" ");
  const index = tokens.findIndex((t) => t.startsWith("-"));
  if (index < 0) return { args: line, optionText: "" };
  return { args: tokens.slice(0, index).join(" "), optionText: tokens.slice(index).join(" ") };
}

function parseOptions(
  text: string,
  source: RequirementSource,
  argsLength: number,
): Map<OptionKey, string[]> {
  const out = new Map<OptionKey, string[]>();
  if (text === "") return out;
  const fail = (message: string, code: RequirementsFileErrorCode, cause?: unknown) =>
    new RequirementsFileError(message, {
      code,
      file: source.file,
      line: source.line,
      column: argsLength + 2,
      cause,
    });
  let tokens: string[];
  try {
    tokens = shlexSplit(text);
  } catch (error) {
    throw fail(`cannot split options "${text}": ${(error as Error).message}`, "invalid-option");
  }
  const add = (key: OptionKey, value: string) => {
    const list = out.get(key);
    if (list === undefined) out.set(key, [value]);
    else list.push(value);
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    let spec: (typeof OPTIONS)[number] | undefined;
    let inline: string | undefined;
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      if (eq >= 0) inline = token.slice(eq + 1);
      // optparse accepts any unambiguous prefix of a long option.
      const exact = OPTIONS.find((o) => o.long === name);
      const prefixed = OPTIONS.filter((o) => o.long.startsWith(name));
      spec = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      if (spec === undefined) {
        throw fail(
          prefixed.length > 1
            ? `ambiguous option "--${name}"`
            : `unknown option "--${name}" in a requirement file`,
          "unknown-option",
        );
      }
      if (!spec.value && inline !== undefined) {
        throw fail(`option "--${spec.long}" takes no value`, "invalid-option");
      }
    } else if (token.startsWith("-") && token.length > 1) {
      spec = OPTIONS.find((o) => o.short === token[1]);
      if (spec === undefined) {
        throw fail(`unknown option "${token}" in a requirement file`, "unknown-option");
      }
      if (token.length > 2) inline = token.slice(2);
    } else {
      // optparse leaves stray positional arguments for pip, which ignores them.
      continue;
    }
    if (!spec.value) {
      add(spec.long, "");
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = tokens[i + 1];
      i++;
    }
    if (value === undefined) throw fail(`option "${token}" needs a value`, "missing-value");
    add(spec.long, value);
  }
  return out;
}

/** POSIX-mode shlex.split: whitespace separates, quotes group, backslash escapes. */
function shlexSplit(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let inToken = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && /["\\$`\n]/.test(text[i + 1]!)) {
        current += text[++i];
      } else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inToken = true;
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new Error("no escaped character");
      current += text[++i];
      inToken = true;
    } else if (/\s/.test(c)) {
      if (inToken) out.push(current);
      current = "";
      inToken = false;
    } else {
      current += c;
      inToken = true;
    }
  }
  if (quote !== undefined) throw new Error("no closing quotation");
  if (inToken) out.push(current);
  return out;
}

/**
 * Parses one requirement as pip parses a command-line argument: a PEP 508 requirement, a URL,
 * or an archive path (`./private_pkg-0.1-py3-none-any.whl`, named by its filename); relative
 * paths and relative `file:` URLs (`name @ file:./x.whl`) are resolved against `cwd`.
 *
 * @param text The argument.
 * @param options `cwd`: the folder relative paths are resolved against (absolute).
 * @returns The requirement; an archive path becomes `name @ file:///…`.
 * @throws {RequirementsFileError} (file `<command line>`) for invalid or unnamed requirements.
 * @example
 * ```ts
 * import { parseRequirementLine } from "./requirements_file.ts";
 * const r = parseRequirementLine("./wheels/private_pkg-0.1-py3-none-any.whl", { cwd: "/work" });
 * if (r.name !== "private_pkg" || r.url !== "file:///work/wheels/private_pkg-0.1-py3-none-any.whl") {
 *   throw new Error(`${r}`);
 * }
 * const s = parseRequirementLine("private_pkg @ file:./x/private_pkg-0.1.tar.gz", { cwd: "/work" });
 * if (s.url !== "file:///work/x/private_pkg-0.1.tar.gz") throw new Error(`${s.url}`);
 * ```
 */
export function parseRequirementLine(text: string, options: { cwd: string }): Requirement {
  return toRequirement(text.trim(), { file: "<command line>", line: 1 }, options.cwd);
}

/**
 * A `file:` URL without `//` (`file:./x.whl`, `file:x.whl`) is relative: WHATWG URL parsing
 * would put it at the root (`file:///x.whl`), so it is resolved against `cwd` first.
 */
function absoluteFileUrl(req: Requirement, cwd: string | undefined): Requirement {
  const url = req.url;
  if (url === undefined || cwd === undefined || !/^file:(?!\/)/i.test(url)) return req;
  const hash = url.indexOf("#");
  const path = decodeURIComponent(hash < 0 ? url.slice(5) : url.slice(5, hash));
  const absolute = pathToFileURL(normalize(join(cwd, path))).href +
    (hash < 0 ? "" : url.slice(hash));
  return Requirement.parse(req.toString().replace(url, absolute));
}

/** Turn the argument part of a line into a Requirement, as pip's parse_req_from_line does. */
function toRequirement(
  args: string,
  source: RequirementSource,
  cwd: string | undefined,
): Requirement {
  const fail = (message: string, code: RequirementsFileErrorCode, column = 1, cause?: unknown) =>
    new RequirementsFileError(message, {
      code,
      file: source.file,
      line: source.line,
      column,
      cause,
    });
  const parse = (text: string, columnOffset: number): Requirement => {
    try {
      return Requirement.parse(text);
    } catch (error) {
      const column = (error as { column?: unknown }).column;
      throw fail(
        `invalid requirement "${args}": ${(error as Error).message}`,
        "invalid-requirement",
        typeof column === "number" ? column + 1 + columnOffset : 1,
        error,
      );
    }
  };
  if (NAMED_URL_RE.test(args)) return absoluteFileUrl(parse(args, 0), cwd);

  const isUrl = URL_RE.test(args);
  // pip: a URL's marker must be separated by "; " since ";" may appear in URLs.
  const sep = isUrl ? "; " : ";";
  const at = args.indexOf(sep);
  let location = (at < 0 ? args : args.slice(0, at)).trim();
  const marker = at < 0 ? undefined : args.slice(at + sep.length).trim();
  const looksLikePath = !isUrl &&
    (/^[.~/\\]/.test(location) || location.includes("/") || location.includes("\\") ||
      ARCHIVE_RE.test(location.replace(/\[[^\]]*\]$/, "")));
  if (!isUrl && !looksLikePath) return parse(args, 0);

  let extras = "";
  let url: string;
  if (isUrl) {
    url = location;
  } else {
    const m = /^(.+)(\[[^\]]+\])$/.exec(location);
    if (m !== null) {
      location = m[1]!;
      extras = m[2]!;
    }
    const full = isAbsolute(location)
      ? location
      : cwd === undefined
      ? location
      : join(cwd, location);
    if (!isAbsolute(full)) {
      throw fail(
        `relative path "${location}" cannot be made absolute: pass an absolute requirement file path or cwd`,
        "relative-path",
      );
    }
    url = pathToFileURL(normalize(full)).href;
  }
  const name = nameFromUrl(url);
  if (name === undefined) {
    throw fail(
      `cannot tell the project name of "${location}": add "#egg=<name>" or write "<name> @ ${url}"`,
      "unnamed-requirement",
    );
  }
  if (name.extras !== "") extras = name.extras;
  const text = `${name.name}${extras} @ ${url}${marker ? ` ; ${marker}` : ""}`;
  return parse(text, 0);
}

function nameFromUrl(url: string): { name: string; extras: string } | undefined {
  const egg = /[#&]egg=([^&]*)/.exec(url);
  if (egg !== null && egg[1] !== undefined && egg[1] !== "") {
    const m = /^([^[]+)(\[[^\]]*\])?$/.exec(decodeURIComponent(egg[1]));
    if (m !== null) return { name: m[1]!, extras: m[2] ?? "" };
  }
  const pathPart = url.replace(/[?#].*$/, "");
  const filename = decodeURIComponent(pathPart.slice(pathPart.lastIndexOf("/") + 1));
  // A wheel filename always starts with the (escaped) project name; an sdist's is ambiguous.
  if (/\.whl$/i.test(filename)) {
    const name = filename.split("-")[0];
    if (name !== undefined && name !== "") return { name, extras: "" };
  }
  return undefined;
}
