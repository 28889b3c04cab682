import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeEntities, parseHtmlPage } from "./html_page.ts";
import { IndexError } from "./index_error.ts";

const DATA = new URL("../tests/data/third_party/simple-api/pypi-simple/data/", import.meta.url);
const read = (name: string): Promise<string> => Deno.readTextFile(new URL(name, DATA));

Deno.test("parseHtmlPage() reads pypi-simple's qypi page: hashes and requires-python", async () => {
  const page = parseHtmlPage(await read("qypi.html"), "https://pypi.org/simple/qypi/");
  const first = page.files[0]!;
  assert.equal(first.filename, "qypi-0.1.0-py3-none-any.whl");
  assert.equal(
    first.url,
    "https://files.pythonhosted.org/packages/82/fc/9e25534641d7f63be93079bc07fa92bab136ddf5d4181059a1308a346f96/qypi-0.1.0-py3-none-any.whl",
  );
  assert.equal(
    first.hashes.sha256,
    "da69d28dcd527c0e372b3fa7b92fc333b327f8470175f035abc4e351b539189f",
  );
  assert.equal(first.requiresPython, "~=3.4");
  assert.equal(first.yanked, false);
  assert.ok(page.files.every((f) => f.filename.startsWith("qypi-")));
});

Deno.test("parseHtmlPage() resolves links against <base href>", async () => {
  const page = parseHtmlPage(await read("qypi_base.html"), "https://pypi.org/simple/qypi/");
  assert.equal(page.files.length, 4);
  assert.ok(page.files.every((f) => f.url.startsWith("https://files.pythonhosted.org/packages/")));
});

Deno.test("parseHtmlPage() reads data-yanked with and without a reason", async () => {
  const page = parseHtmlPage(await read("qypi_mixed.html"), "https://pypi.org/simple/qypi/");
  assert.deepEqual(page.files.map((f) => f.yanked), [
    { reason: "Metadata was smelly" },
    { reason: "" },
    { reason: "" },
    false,
    false,
  ]);
});

Deno.test("parseHtmlPage() unescapes data-requires-python and reads repository-version", async () => {
  const page = parseHtmlPage(
    await read("session01/in-place.html"),
    "https://pypi.org/simple/in-place/",
  );
  assert.equal(page.apiVersion, "1.0");
  assert.equal(page.files.at(-1)?.requiresPython, ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, <4");
});

Deno.test("parseHtmlPage() resolves devpi's relative links against the page URL", async () => {
  const url = "https://m.devpi.net/fschulze/dev/+simple/devpi"; // devpi serves it without a slash
  const page = parseHtmlPage(await read("devpi_devpi.html"), url);
  assert.equal(page.files.length, 5);
  assert.equal(
    page.files[2]?.url,
    "https://m.devpi.net/fschulze/dev/+f/197/3b59b5a67362a/devpi-2.0.3.tar.gz",
  );
  assert.equal(page.files[0]?.url.startsWith("https://m.devpi.net/root/pypi/+f/"), true);
});

Deno.test("parseHtmlPage() rejects an unknown major repository version", async () => {
  const html = (await read("qypi_repo_version.html")).replace('content="1.0"', 'content="2.0"');
  assert.throws(
    () => parseHtmlPage(html, "https://x/simple/qypi/"),
    (e: unknown) => e instanceof IndexError && e.code === "unsupported-api-version",
  );
  const minor = await read("qypi-708.html");
  assert.equal(parseHtmlPage(minor, "https://x/simple/qypi/").files.length, 2);
});

Deno.test("parseHtmlPage() prefers data-core-metadata and ignores anchors in comments", () => {
  const page = parseHtmlPage(
    `<!-- <a href="hidden-1.0.tar.gz">x</a> -->
     <A HREF='a-1.0-py3-none-any.whl' data-dist-info-metadata="sha256=AA" data-core-metadata="sha256=BB">a</A>
     <a href="a-1.1-py3-none-any.whl" data-dist-info-metadata="true">b</a>
     <a>no href</a>`,
    "https://x/simple/a/",
  );
  assert.deepEqual(page.files.map((f) => f.coreMetadata), [{ hashes: { sha256: "bb" } }, {
    hashes: {},
  }]);
});

Deno.test("parseHtmlPage() names the URL when the page is truncated inside a tag", () => {
  assert.throws(
    () => parseHtmlPage('<a href="x-1.0.tar.gz', "https://x/simple/x/"),
    (e: unknown) =>
      e instanceof IndexError && e.code === "malformed-page" &&
      e.message.includes("https://x/simple/x/"),
  );
});

Deno.test("decodeEntities() inverts HTML escaping of any text (law)", () => {
  const escape = (s: string): string =>
    s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
      '"',
      "&quot;",
    );
  fc.assert(fc.property(fc.string(), (s) => decodeEntities(escape(s)) === s));
  fc.assert(fc.property(fc.integer({ min: 32, max: 0xd7ff }), (cp) => {
    return decodeEntities(`&#${cp};`) === String.fromCodePoint(cp) &&
      decodeEntities(`&#x${cp.toString(16)};`) === String.fromCodePoint(cp);
  }));
});
