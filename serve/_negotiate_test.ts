import assert from "node:assert/strict";
import fc from "fast-check";
import {
  acceptsGzip,
  HTML_V1,
  JSON_V1,
  negotiatePage,
  type PageMediaType,
  TEXT_HTML,
} from "./_negotiate.ts";

const ALL: PageMediaType[] = [JSON_V1, HTML_V1, TEXT_HTML];

Deno.test("negotiatePage() gives pip's preference order: JSON, then v1 HTML, then text/html", () => {
  const pip = `${JSON_V1}, ${HTML_V1}; q=0.1, text/html; q=0.01`;
  assert.equal(negotiatePage(pip, ALL), JSON_V1);
  assert.equal(negotiatePage(pip, [HTML_V1, TEXT_HTML]), HTML_V1);
  assert.equal(negotiatePage(pip, [TEXT_HTML]), TEXT_HTML);
});

Deno.test("negotiatePage() answers a client that names no format with text/html", () => {
  assert.equal(negotiatePage(undefined, ALL), TEXT_HTML);
  assert.equal(negotiatePage("*/*", ALL), TEXT_HTML);
  assert.equal(negotiatePage("", ALL), TEXT_HTML);
  assert.equal(negotiatePage("text/html", ALL), TEXT_HTML);
  // A browser: text/html named, everything else by */*.
  assert.equal(negotiatePage("text/html,application/xhtml+xml,*/*;q=0.8", ALL), TEXT_HTML);
});

Deno.test("negotiatePage() honours q-values, the most specific range and the latest aliases", () => {
  assert.equal(negotiatePage(`${JSON_V1};q=0.2, ${HTML_V1}`, ALL), HTML_V1);
  assert.equal(negotiatePage("application/vnd.pypi.simple.latest+json", ALL), JSON_V1);
  assert.equal(negotiatePage("application/vnd.pypi.simple.latest+html", ALL), HTML_V1);
  assert.equal(negotiatePage("application/*", ALL), JSON_V1);
  // */* accepts everything, but JSON's own range refuses it.
  assert.equal(negotiatePage(`*/*, ${JSON_V1};q=0`, [JSON_V1]), undefined);
  assert.equal(negotiatePage(`*/*;q=0.5, ${JSON_V1};q=0`, ALL), TEXT_HTML);
  // A malformed q-value drops the element, it is not read as 1.
  assert.equal(negotiatePage(`${JSON_V1};q=2, text/html`, ALL), TEXT_HTML);
});

Deno.test("negotiatePage() finds nothing acceptable for formats the index does not serve", () => {
  assert.equal(negotiatePage("application/xml", ALL), undefined);
  assert.equal(negotiatePage(`${JSON_V1}`, [HTML_V1, TEXT_HTML]), undefined);
  assert.equal(negotiatePage("text/html;q=0", ALL), undefined);
});

Deno.test("negotiatePage() only ever picks an offered format with a positive q (law)", () => {
  const media = fc.constantFrom(
    JSON_V1,
    HTML_V1,
    TEXT_HTML,
    "*/*",
    "text/*",
    "application/*",
    "image/png",
  );
  const element = fc.tuple(media, fc.option(fc.constantFrom("0", "0.5", "1", "0.001", "x"))).map((
    [m, q],
  ) => (q === null ? m : `${m};q=${q}`));
  fc.assert(
    fc.property(
      fc.array(element, { maxLength: 6 }),
      fc.subarray(ALL, { minLength: 1 }),
      (els, offered) => {
        const got = negotiatePage(els.join(", "), offered);
        if (got !== undefined) assert.ok(offered.includes(got));
        // Offering more never turns an acceptable answer into a 406.
        if (got !== undefined) assert.notEqual(negotiatePage(els.join(", "), ALL), undefined);
      },
    ),
  );
});

Deno.test("acceptsGzip() reads codings with q-values and the * wildcard", () => {
  assert.equal(acceptsGzip(undefined), false);
  assert.equal(acceptsGzip("gzip, deflate, br"), true);
  assert.equal(acceptsGzip("identity"), false);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("*;q=0.5, gzip;q=0"), false);
  assert.equal(acceptsGzip("br, GZIP;q=0.3"), true);
});
