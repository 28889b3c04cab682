import assert from "node:assert/strict";
import { parseJsonPage } from "./json_page.ts";
import { IndexError } from "./index_error.ts";

const DATA = new URL("../tests/data/third_party/simple-api/pypi-simple/data/", import.meta.url);
const read = (name: string): Promise<string> => Deno.readTextFile(new URL(name, DATA));
const URL_ = "https://pypi.org/simple/argset/";

Deno.test("parseJsonPage() reads pypi-simple's argset page", async () => {
  const page = parseJsonPage(await read("argset.json"), URL_);
  assert.equal(page.apiVersion, "1.0");
  assert.equal(page.name, "argset");
  assert.equal(page.files.length, 2);
  assert.equal(page.files[0]?.requiresPython, "~=3.6");
  assert.equal(
    page.files[0]?.hashes.sha256,
    "107a632c7112faceb9fd6e93658dd461154713db250f7ffde5bd473e17cf1db5",
  );
  assert.equal(page.files[0]?.size, undefined);
});

Deno.test("parseJsonPage() reads PEP 700 versions, size and upload-time", async () => {
  const page = parseJsonPage(await read("argset-700.json"), URL_);
  assert.deepEqual(page.versions, ["0.1.0"]);
  assert.equal(page.files[1]?.size, 6565);
  assert.equal(page.files[0]?.uploadTime, "2021-06-05T00:15:37.534150Z");
});

Deno.test("parseJsonPage() goes on with an unknown minor version (1.2)", async () => {
  assert.equal(parseJsonPage(await read("argset-708.json"), URL_).files.length, 2);
});

Deno.test("parseJsonPage() resolves relative URLs against the page URL", async () => {
  const page = parseJsonPage(await read("argset-relative.json"), URL_);
  assert.equal(
    page.files[0]?.url,
    "https://pypi.org/simple/argset/packages/argset-0.1.0-py3-none-any.whl",
  );
});

Deno.test("parseJsonPage() reads yanked as a boolean or a reason; empty requires-python is absent", async () => {
  const page = parseJsonPage(await read("yanked.json"), "https://pypi.org/simple/yanked/");
  assert.deepEqual(page.files.map((f) => f.yanked), [{ reason: "" }, { reason: "not good" }]);
  assert.equal(page.files[0]?.requiresPython, undefined);
});

Deno.test("parseJsonPage() takes core-metadata over dist-info-metadata (PEP 714)", () => {
  const page = parseJsonPage(
    JSON.stringify({
      meta: { "api-version": "1.1" },
      files: [
        {
          filename: "a-1-py3-none-any.whl",
          url: "a",
          hashes: {},
          "core-metadata": { sha256: "X" },
          "dist-info-metadata": true,
        },
        { filename: "a-2-py3-none-any.whl", url: "b", hashes: {}, "dist-info-metadata": true },
        { filename: "a-3-py3-none-any.whl", url: "c", hashes: {} },
      ],
    }),
    URL_,
  );
  assert.deepEqual(page.files.map((f) => f.coreMetadata), [{ hashes: { sha256: "x" } }, {
    hashes: {},
  }, false]);
});

Deno.test("parseJsonPage() rejects bad shapes and unknown major versions naming the URL", () => {
  const cases: [string, string][] = [
    ["[]", "malformed-page"],
    ['{"meta":{}}', "malformed-page"],
    ['{"meta":{"api-version":"1.0"},"files":[{"filename":"a"}]}', "malformed-page"],
    ['{"meta":{"api-version":"2.0"},"files":[]}', "unsupported-api-version"],
  ];
  for (const [text, code] of cases) {
    assert.throws(
      () => parseJsonPage(text, URL_),
      (e: unknown) => e instanceof IndexError && e.code === code && e.message.includes(URL_),
    );
  }
});
