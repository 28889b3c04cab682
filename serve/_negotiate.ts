// Content negotiation of the simple API (PEP 691): which page format an `Accept` header asks
// for, with q-values, and whether `Accept-Encoding` allows gzip. Pure.

/** The page formats a server can offer, by media type. */
export type PageMediaType =
  | "application/vnd.pypi.simple.v1+json"
  | "application/vnd.pypi.simple.v1+html"
  | "text/html";

export const JSON_V1 = "application/vnd.pypi.simple.v1+json";
export const HTML_V1 = "application/vnd.pypi.simple.v1+html";
export const TEXT_HTML = "text/html";

// PEP 691: `latest` names whatever version the server prefers; the response names the version.
const ALIASES: Record<string, PageMediaType> = {
  "application/vnd.pypi.simple.latest+json": JSON_V1,
  "application/vnd.pypi.simple.latest+html": HTML_V1,
};

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

/** Parses a q-value (RFC 9110 §12.4.2): 0 to 1, at most three decimals; undefined if invalid. */
function qValue(text: string): number | undefined {
  if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text)) return undefined;
  return Number(text);
}

/** The parameters of one list element (`; q=0.5`), lower-cased names. */
function parameters(parts: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    out.set(
      part.slice(0, eq).trim().toLowerCase(),
      part.slice(eq + 1).trim().replace(/^"|"$/g, ""),
    );
  }
  return out;
}

function mediaRanges(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const element of accept.split(",")) {
    const [range = "", ...params] = element.split(";");
    const [type, subtype, extra] = range.trim().toLowerCase().split("/");
    if (!type || !subtype || extra !== undefined) continue;
    const q = parameters(params).get("q");
    const value = q === undefined ? 1 : qValue(q);
    // An element with a malformed q-value is dropped rather than guessed at.
    if (value === undefined) continue;
    out.push({ type, subtype, q: value });
  }
  return out;
}

/** How specifically `range` names `media`: 2 exactly, 1 by `type/*`, 0 by `*\/*`, -1 not at all. */
function specificity(range: MediaRange, media: PageMediaType): number {
  const full = `${range.type}/${range.subtype}`;
  if (full === media || ALIASES[full] === media) return 2;
  const [type] = media.split("/");
  if (range.type === type && range.subtype === "*") return 1;
  if (range.type === "*" && range.subtype === "*") return 0;
  return -1;
}

/**
 * Picks the page format for an `Accept` header among `offered`: the highest q-value, each offer
 * taking the q of the most specific range that names it (RFC 9110 §12.5.1); ties go to the more
 * specific match, then to JSON over HTML. A client that names no format and only sends `*\/*`
 * (curl, a browser's fallback, no header at all) gets `text/html`, PEP 503's page, as from PyPI.
 *
 * @param accept The header value; undefined means `*\/*`.
 * @param offered The formats on offer, any order.
 * @returns The format, or undefined when nothing offered is acceptable (a 406).
 */
export function negotiatePage(
  accept: string | undefined,
  offered: readonly PageMediaType[],
): PageMediaType | undefined {
  const ranges = mediaRanges(accept === undefined || accept.trim() === "" ? "*/*" : accept);
  let best: { media: PageMediaType; q: number; specificity: number; rank: number } | undefined;
  for (const media of offered) {
    let match: MediaRange | undefined;
    let spec = -1;
    for (const range of ranges) {
      const s = specificity(range, media);
      if (s > spec) {
        spec = s;
        match = range;
      }
    }
    if (match === undefined || match.q <= 0) continue;
    const rank = spec === 0
      ? [TEXT_HTML, HTML_V1, JSON_V1].indexOf(media)
      : [JSON_V1, HTML_V1, TEXT_HTML].indexOf(media);
    const better = best === undefined || match.q > best.q ||
      (match.q === best.q &&
        (spec > best.specificity || (spec === best.specificity && rank < best.rank)));
    if (better) best = { media, q: match.q, specificity: spec, rank };
  }
  return best?.media;
}

/**
 * Whether an `Accept-Encoding` header accepts gzip: named with a q above 0, or `*` with a q
 * above 0 and gzip not refused.
 *
 * @param header The header value.
 * @returns True when the body may be sent gzipped.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let star: number | undefined;
  for (const element of header.split(",")) {
    const [coding = "", ...params] = element.split(";");
    const name = coding.trim().toLowerCase();
    const q = parameters(params).get("q");
    const value = q === undefined ? 1 : qValue(q) ?? 0;
    if (name === "gzip" || name === "x-gzip") return value > 0;
    if (name === "*") star = value;
  }
  return star !== undefined && star > 0;
}
