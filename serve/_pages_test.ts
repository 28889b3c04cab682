import assert from "node:assert/strict";
import { decodeEntities, parseHtmlPage, parseJsonPage } from "../index/mod.ts";
import { projectHtml, projectJson, projectsHtml, uploadTime, versionsOf } from "./_pages.ts";
import type { SourceFile } from "./types.ts";

function file(filename: string, over: Partial<SourceFile> = {}): SourceFile {
  return {
    filename,
    project: "demo",
    sha256: "a".repeat(64),
    size: 10,
    mtimeMs: Date.parse("2024-03-01T10:00:00.123Z") + 0.456,
    yanked: false,
    hasMetadata: filename.endsWith(".whl"),
    ...over,
  };
}

const URL = "http://127.0.0.1:1/simple/demo/";

Deno.test("projectHtml() escapes Requires-Python and carries yanks and both metadata attributes", () => {
  const html = projectHtml("demo", [
    {
      file: file("demo-1.0-py3-none-any.whl", { requiresPython: '>=3.8,<4"><script>' }),
      metadataSha256: "b".repeat(64),
    },
    { file: file("demo-0.9.tar.gz", { yanked: { reason: "broken <b>" } }) },
  ]);
  assert.ok(!html.includes("<script>"));
  assert.match(html, /data-requires-python="&gt;=3\.8,&lt;4&quot;&gt;&lt;script&gt;"/);
  assert.match(html, new RegExp(`data-dist-info-metadata="sha256=${"b".repeat(64)}"`));
  assert.match(html, new RegExp(`data-core-metadata="sha256=${"b".repeat(64)}"`));
  assert.match(html, /<meta name="pypi:repository-version" content="1\.1">/);
  const page = parseHtmlPage(html, URL);
  assert.equal(page.files.length, 2);
  assert.equal(page.files[0]?.url, "http://127.0.0.1:1/files/demo-1.0-py3-none-any.whl");
  assert.equal(page.files[0]?.requiresPython, '>=3.8,<4"><script>');
  assert.deepEqual(page.files[0]?.coreMetadata, { hashes: { sha256: "b".repeat(64) } });
  assert.deepEqual(page.files[1]?.yanked, { reason: "broken <b>" });
  assert.equal(page.files[1]?.coreMetadata, false);
  assert.equal(decodeEntities("&gt;"), ">");
});

Deno.test("projectJson() gives PEP 700 versions, sizes and upload times in microseconds", () => {
  const text = projectJson("demo", [
    { file: file("demo-1.0-py3-none-any.whl"), metadataSha256: "c".repeat(64) },
    { file: file("demo-1.0.tar.gz") },
    { file: file("demo-0.10-py3-none-any.whl", { yanked: { reason: "" } }) },
    { file: file("demo-0.9.post1.tar.gz", { yanked: { reason: "why" } }) },
  ]);
  const raw = JSON.parse(text);
  assert.deepEqual(raw.versions, ["0.9.post1", "0.10", "1.0"]);
  assert.equal(raw.meta["api-version"], "1.1");
  assert.equal(raw.files[0]["upload-time"], "2024-03-01T10:00:00.123456Z");
  assert.equal(raw.files[2].yanked, true);
  assert.equal(raw.files[3].yanked, "why");
  assert.deepEqual(raw.files[0]["core-metadata"], { sha256: "c".repeat(64) });
  assert.deepEqual(raw.files[0]["dist-info-metadata"], { sha256: "c".repeat(64) });
  assert.equal(raw.files[1]["core-metadata"], false);
  const page = parseJsonPage(text, URL);
  assert.equal(page.files[0]?.size, 10);
  assert.equal(page.files[0]?.url, "http://127.0.0.1:1/files/demo-1.0-py3-none-any.whl");
});

Deno.test("uploadTime() is UTC with six fractional digits; versionsOf() skips names without one", () => {
  assert.equal(uploadTime(0), "1970-01-01T00:00:00.000000Z");
  assert.equal(uploadTime(1_700_000_000_999.9), "2023-11-14T22:13:20.999900Z");
  assert.deepEqual(versionsOf([file("demo-2.0.tar.gz"), file("weird.zip")]), ["2.0"]);
});

Deno.test("projectsHtml() links each project to its normalised page", () => {
  const html = projectsHtml(["a-b", "c"]);
  assert.match(html, /<a href="a-b\/">a-b<\/a>/);
  assert.match(html, /<a href="c\/">c<\/a>/);
});
