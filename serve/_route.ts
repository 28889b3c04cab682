// The request target -> what is asked for. Pure. Paths are never joined onto the folder here or
// anywhere: a file is looked up by its exact name among the source's files, so a name that is
// not one plain segment cannot name anything; this only rejects the obviously hostile early.
import { isValidName, normalizeName } from "../pep/name.ts";

/** What a request target asks for. */
export type Route =
  /** `/simple/`: the project list. */
  | { kind: "projects"; format: string | undefined }
  /** `/simple/<normalised>/`: one project's page. */
  | { kind: "project"; project: string; format: string | undefined }
  /** `/files/<name>`: a file. */
  | { kind: "file"; filename: string }
  /** `/files/<name>.metadata`: a file's core metadata (PEP 658). */
  | { kind: "metadata"; filename: string }
  /** Somewhere else: `/`, `/simple`, a project name that is not normalised (301, as PyPI). */
  | { kind: "redirect"; location: string }
  /** A target that cannot be read (not a path, bad percent-encoding). */
  | { kind: "bad-request"; reason: string }
  /** Nothing is there. */
  | { kind: "not-found" };

const METADATA_SUFFIX = ".metadata";

/**
 * Decodes one path segment; undefined when it is badly encoded or is not a plain name (a
 * separator, a NUL or another control character, `.` or `..` after decoding).
 */
function segment(raw: string): string | undefined | null {
  let text: string;
  try {
    text = decodeURIComponent(raw);
  } catch {
    return null;
  }
  // Control characters are exactly what must never reach a file name.
  // deno-lint-ignore no-control-regex
  if (text === "" || text === "." || text === ".." || /[/\\\u0000-\u001f\u007f]/.test(text)) {
    return undefined;
  }
  return text;
}

function queryFormat(query: string): string | undefined {
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key !== "format") continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).replaceAll("+", " "));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Reads a request target (`req.url`: path and query, as sent).
 *
 * @param target The request target.
 * @returns The route.
 */
export function route(target: string): Route {
  // Only origin-form: an absolute URL, `*` or anything else is not a path of this server.
  if (!target.startsWith("/")) return { kind: "bad-request", reason: "not a path" };
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q + 1);
  const search = q < 0 ? "" : `?${query}`;
  if (path.includes("\\") || path.includes("\0")) return { kind: "not-found" };
  const raw = path.split("/").slice(1);
  const parts: string[] = [];
  for (const [i, piece] of raw.entries()) {
    // A trailing slash leaves one empty segment; any other empty segment (`//`) names nothing.
    if (piece === "" && i === raw.length - 1) break;
    const decoded = segment(piece);
    if (decoded === null) return { kind: "bad-request", reason: "bad percent-encoding" };
    if (decoded === undefined) return { kind: "not-found" };
    parts.push(decoded);
  }
  const slash = path.endsWith("/");
  const [top, name, ...rest] = parts;
  if (top === undefined) return { kind: "redirect", location: "/simple/" };
  if (top === "simple") {
    if (name === undefined) {
      return slash
        ? { kind: "projects", format: queryFormat(query) }
        : { kind: "redirect", location: `/simple/${search}` };
    }
    if (rest.length > 0 || !isValidName(name)) return { kind: "not-found" };
    const normal = normalizeName(name);
    if (normal !== name || !slash) {
      return { kind: "redirect", location: `/simple/${normal}/${search}` };
    }
    return { kind: "project", project: normal, format: queryFormat(query) };
  }
  if (top === "files" && name !== undefined && rest.length === 0 && !slash) {
    if (name.endsWith(METADATA_SUFFIX) && name.length > METADATA_SUFFIX.length) {
      return { kind: "metadata", filename: name.slice(0, -METADATA_SUFFIX.length) };
    }
    return { kind: "file", filename: name };
  }
  return { kind: "not-found" };
}
