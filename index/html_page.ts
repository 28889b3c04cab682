/**
 * PEP 503 HTML project pages (and flat find-links pages): a small, careful tokenizer for `<a>`,
 * `<base>` and `<meta>` with HTML entity decoding. No DOM is needed.
 *
 * @module
 */

import type { Hashes, PageFile, ProjectPage, Yanked } from "./types.ts";
import { IndexError } from "./index_error.ts";
import { redactUrl } from "./auth.ts";
import { checkApiVersion } from "./_api_version.ts";

/** A start tag: lower-case name and attributes (lower-case names, decoded values; null = bare). */
interface Tag {
  name: string;
  attrs: Map<string, string | null>;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  equals: "=",
  excl: "!",
  num: "#",
  percnt: "%",
  plus: "+",
  comma: ",",
  period: ".",
  colon: ":",
  semi: ";",
  sol: "/",
  tilde: "~",
  lpar: "(",
  rpar: ")",
  ast: "*",
  quest: "?",
  commat: "@",
  lowbar: "_",
  hyphen: "-",
  Hat: "^",
  verbar: "|",
  vert: "|",
  dollar: "$",
  lsqb: "[",
  rsqb: "]",
  lbrack: "[",
  rbrack: "]",
  lcub: "{",
  rcub: "}",
  grave: "`",
  bsol: "\\",
};

/**
 * Decodes HTML character references (named ones common in index pages, decimal and hex).
 * Unknown or malformed references are kept as written, as browsers do.
 *
 * @param text Attribute or text content.
 * @returns The decoded text.
 * @example
 * ```ts
 * import { decodeEntities } from "./html_page.ts";
 * if (decodeEntities("&gt;=3.8, &lt;4&#44;&#x21;") !== ">=3.8, <4,!") throw new Error();
 * ```
 */
export function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(
    /&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);?/g,
    (whole, ref: string) => {
      if (ref.startsWith("#")) {
        const code = ref[1] === "x" || ref[1] === "X"
          ? parseInt(ref.slice(2), 16)
          : parseInt(ref.slice(1), 10);
        if (
          !Number.isFinite(code) || code <= 0 || code > 0x10ffff ||
          (code >= 0xd800 && code < 0xe000)
        ) {
          return "\ufffd";
        }
        return String.fromCodePoint(code);
      }
      const named = NAMED_ENTITIES[ref];
      if (named === undefined) return whole;
      // Without the semicolon only the legacy four are references (as HTML5 reads `&amp`).
      return whole.endsWith(";") || LEGACY.has(ref) ? named : whole;
    },
  );
}

const LEGACY = new Set(["amp", "lt", "gt", "quot"]);

const RAW_TEXT = new Set(["script", "style", "textarea", "title"]);

/** Yields the start tags of interest in document order; throws on a truncated tag. */
function* startTags(html: string, url: string): Generator<Tag> {
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf("<", i);
    if (lt < 0) return;
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      if (end < 0) return; // An unclosed comment swallows the rest, as in browsers.
      i = end + 3;
      continue;
    }
    const next = html[lt + 1] ?? "";
    if (next === "!" || next === "?" || next === "/") {
      const end = html.indexOf(">", lt);
      if (end < 0) return;
      i = end + 1;
      continue;
    }
    if (!/[a-zA-Z]/.test(next)) {
      i = lt + 1;
      continue;
    }
    let j = lt + 1;
    while (j < n && !/[\s/>]/.test(html[j] ?? "")) j++;
    const name = html.slice(lt + 1, j).toLowerCase();
    const attrs = new Map<string, string | null>();
    // Attributes: name, name=value, name="value", name='value'.
    for (;;) {
      while (j < n && /[\s/]/.test(html[j] ?? "")) j++;
      if (j >= n) throw truncated(url, lt);
      if (html[j] === ">") {
        j++;
        break;
      }
      const nameStart = j;
      while (j < n && !/[\s/>=]/.test(html[j] ?? "")) j++;
      const attrName = html.slice(nameStart, j).toLowerCase();
      while (j < n && /\s/.test(html[j] ?? "")) j++;
      if (html[j] !== "=") {
        if (!attrs.has(attrName)) attrs.set(attrName, null);
        continue;
      }
      j++;
      while (j < n && /\s/.test(html[j] ?? "")) j++;
      const quote = html[j];
      let value: string;
      if (quote === '"' || quote === "'") {
        const end = html.indexOf(quote, j + 1);
        if (end < 0) throw truncated(url, lt);
        value = html.slice(j + 1, end);
        j = end + 1;
      } else {
        const start = j;
        while (j < n && !/[\s>]/.test(html[j] ?? "")) j++;
        value = html.slice(start, j);
      }
      // The first occurrence of an attribute wins (HTML parsing rule).
      if (!attrs.has(attrName)) attrs.set(attrName, decodeEntities(value));
    }
    i = j;
    if (RAW_TEXT.has(name)) {
      const close = html.toLowerCase().indexOf(`</${name}`, i);
      i = close < 0 ? n : close;
    }
    yield { name, attrs };
  }
}

function truncated(url: string, at: number): IndexError {
  return new IndexError(
    "malformed-page",
    `Cannot parse ${redactUrl(url)}: the page ends inside a tag that starts at offset ${at}`,
  );
}

const HASH_FRAGMENT = /^(sha512|sha384|sha256|sha224|sha1|md5|blake2b|sha3_256)=([0-9a-fA-F]+)$/;

/**
 * Reads `name=hexdigest` (a URL fragment or a `data-core-metadata` value).
 *
 * @param text The fragment without `#`.
 * @returns The hash as `{ name: hex }`, or undefined when it is not one.
 */
function parseHashPair(text: string): Hashes | undefined {
  const m = HASH_FRAGMENT.exec(text);
  return m ? { [m[1] ?? ""]: (m[2] ?? "").toLowerCase() } : undefined;
}

function parseCoreMetadataAttr(value: string | null | undefined): false | { hashes: Hashes } {
  if (value === undefined) return false;
  const v = (value ?? "").trim();
  if (v.toLowerCase() === "false") return false;
  return { hashes: parseHashPair(v) ?? {} };
}

function fileNameOf(url: URL): string {
  const last = url.pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * Parses a PEP 503 project page or a flat find-links HTML page into its files. Links without
 * `href`, or whose `href` cannot be resolved, are skipped as pip does; file names come from the
 * URL path.
 *
 * @param html The page text.
 * @param url The page URL (the base for relative links unless `<base href>` says otherwise).
 * @returns The page's files (URLs without the hash fragment) and repository version.
 * @throws {IndexError} `malformed-page` for a truncated tag; `unsupported-api-version` for a
 * `pypi:repository-version` with an unknown major version.
 * @example
 * ```ts
 * import { parseHtmlPage } from "./html_page.ts";
 * const page = parseHtmlPage(
 *   '<a href="../f/a-1.0.tar.gz#sha256=AB" data-requires-python="&gt;=3.8" data-yanked="bad">x</a>',
 *   "https://i.example/simple/a/",
 * );
 * const f = page.files[0];
 * if (f?.url !== "https://i.example/simple/f/a-1.0.tar.gz") throw new Error();
 * if (f.hashes.sha256 !== "ab" || f.requiresPython !== ">=3.8") throw new Error();
 * if (f.yanked === false || f.yanked.reason !== "bad") throw new Error();
 * ```
 */
export function parseHtmlPage(html: string, url: string): ProjectPage {
  let base: URL;
  try {
    base = new URL(url);
  } catch (cause) {
    throw new IndexError("invalid-url", `Invalid page URL ${redactUrl(url)}`, { cause });
  }
  let baseSeen = false;
  let apiVersion: string | undefined;
  const files: PageFile[] = [];
  for (const tag of startTags(html, url)) {
    if (tag.name === "base" && !baseSeen) {
      const href = tag.attrs.get("href");
      if (href) {
        try {
          base = new URL(href.trim(), base);
          baseSeen = true;
        } catch {
          // An unusable <base href> is ignored, as browsers do.
        }
      }
    } else if (tag.name === "meta") {
      if (tag.attrs.get("name") === "pypi:repository-version") {
        const content = tag.attrs.get("content") ?? "";
        checkApiVersion(content, url);
        apiVersion = content.trim();
      }
    } else if (tag.name === "a") {
      const href = tag.attrs.get("href");
      if (!href) continue;
      let link: URL;
      try {
        link = new URL(href.trim(), base);
      } catch {
        continue;
      }
      const filename = fileNameOf(link);
      if (filename === "") continue;
      const hashes = parseHashPair(link.hash.slice(1)) ?? {};
      link.hash = "";
      const file: PageFile = {
        filename,
        url: link.href,
        hashes,
        yanked: yankedOf(tag.attrs),
        coreMetadata: parseCoreMetadataAttr(
          tag.attrs.has("data-core-metadata")
            ? tag.attrs.get("data-core-metadata")
            : tag.attrs.get("data-dist-info-metadata"),
        ),
      };
      const rp = tag.attrs.get("data-requires-python");
      if (rp !== undefined && rp !== null && rp.trim() !== "") file.requiresPython = rp.trim();
      files.push(file);
    }
  }
  const page: ProjectPage = { files };
  if (apiVersion !== undefined) page.apiVersion = apiVersion;
  return page;
}

function yankedOf(attrs: Map<string, string | null>): Yanked {
  if (!attrs.has("data-yanked")) return false;
  return { reason: attrs.get("data-yanked") ?? "" };
}
