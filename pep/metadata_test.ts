import assert from "node:assert/strict";
import fc from "fast-check";
import { unzipSync } from "fflate";
import { InvalidMetadataError, parseCoreMetadata } from "./metadata.ts";

const WHEEL = new URL(
  "../tests/data/third_party/simple-api/pypi-simple/data/click_loglevel-0.4.0.post1-py3-none-any.whl",
  import.meta.url,
).pathname;

function doc(version: string, extra = ""): string {
  return `Metadata-Version: ${version}\nName: demo\nVersion: 1.0\n${extra}`;
}

Deno.test("parseCoreMetadata() accepts every Metadata-Version from 1.0 to 2.4 and an unknown 2.x", () => {
  for (const v of ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4", "2.7"]) {
    const m = parseCoreMetadata(doc(v));
    assert.equal(m.metadataVersion, v);
    assert.equal(m.name, "demo");
    assert.equal(m.version, "1.0");
  }
});

Deno.test("parseCoreMetadata() rejects Metadata-Version 3.0, a malformed one, and a missing one", () => {
  for (
    const [text, code] of [
      [doc("3.0"), "unsupported-version"],
      [doc("two"), "unsupported-version"],
      ["Name: demo\nVersion: 1.0\n", "missing-field"],
      ["Metadata-Version: 2.1\nVersion: 1.0\n", "missing-field"],
      ["Metadata-Version: 2.1\nName: demo\n", "missing-field"],
    ] as const
  ) {
    assert.throws(
      () => parseCoreMetadata(text),
      (e: unknown) =>
        e instanceof InvalidMetadataError && e instanceof SyntaxError && e.code === code,
      text,
    );
  }
});

Deno.test("parseCoreMetadata() reads header names case-insensitively and keeps repeated fields in order", () => {
  const m = parseCoreMetadata(
    "metadata-version: 2.1\nNAME: Demo\nversion: 2\nClassifier: A\nclassifier: B\nREQUIRES-DIST: b\n",
  );
  assert.equal(m.name, "Demo");
  assert.deepEqual(m.fields.get("classifier"), ["A", "B"]);
  assert.deepEqual(m.requiresDist.map((r) => r.name), ["b"]);
});

Deno.test("parseCoreMetadata() folds continuation lines and unindents a Description header", () => {
  const text = doc(
    "1.1",
    "License: Line one\n        line two\nDescription: First\n        Second\n       |  Third\nSummary: s\n",
  );
  const m = parseCoreMetadata(text);
  assert.deepEqual(m.fields.get("license"), ["Line one\n        line two"]);
  assert.equal(m.description, "First\nSecond\n  Third");
  assert.equal(m.summary, "s");
});

Deno.test("parseCoreMetadata() takes the body as the description and tolerates CRLF", () => {
  const m = parseCoreMetadata(
    "Metadata-Version: 2.1\r\nName: demo\r\nVersion: 1.0\r\nDescription-Content-Type: text/markdown\r\n\r\n# Title\r\n\r\ntext\r\n",
  );
  assert.equal(m.description, "# Title\n\ntext\n");
  assert.equal(m.descriptionContentType, "text/markdown");
});

Deno.test("parseCoreMetadata() lower-cases Dynamic and refuses Dynamic: Name only when strict", () => {
  const m = parseCoreMetadata(
    doc("2.2", "Dynamic: Requires-Dist\nDynamic: License\nDynamic: Name\n"),
  );
  assert.deepEqual(m.dynamic, ["requires-dist", "license"]);
  assert.equal(m.problems.length, 1);
  assert.equal(m.problems[0]?.field, "dynamic");
  assert.throws(
    () => parseCoreMetadata(doc("2.2", "Dynamic: Name\n"), { strict: true }),
    (e: unknown) => e instanceof InvalidMetadataError && e.line === 4 && e.code === "invalid-field",
  );
});

Deno.test("parseCoreMetadata() skips a junk Requires-Dist when lenient and throws with its line when strict", () => {
  const text = doc(
    "2.1",
    "Requires-Dist: good>=1\nRequires-Dist: bad >= = 1\nRequires-Python: >=3.8\nProvides-Extra: Fast_IO\n",
  );
  const lenient = parseCoreMetadata(text);
  assert.deepEqual(lenient.requiresDist.map((r) => r.name), ["good"]);
  assert.equal(lenient.problems[0]?.line, 5);
  assert.equal(lenient.problems[0]?.value, "bad >= = 1");
  assert.equal(lenient.requiresPython?.toString(), ">=3.8");
  assert.deepEqual(lenient.providesExtra, ["fast-io"]);
  assert.throws(
    () => parseCoreMetadata(text, { strict: true }),
    (e: unknown) =>
      e instanceof InvalidMetadataError && e.code === "invalid-requirement" && e.line === 5 &&
      e.message.includes("bad >= = 1"),
  );
});

Deno.test("parseCoreMetadata() in strict mode rejects a version that is not PEP 440", () => {
  const text = "Metadata-Version: 2.1\nName: demo\nVersion: not a version\n";
  assert.equal(parseCoreMetadata(text).version, "not a version");
  assert.throws(() => parseCoreMetadata(text, { strict: true }), InvalidMetadataError);
});

Deno.test("parseCoreMetadata() reads the METADATA of a real wheel", () => {
  const files = unzipSync(Deno.readFileSync(WHEEL));
  const entry = Object.keys(files).find((n) => /\.dist-info\/METADATA$/.test(n));
  assert.ok(entry);
  const m = parseCoreMetadata(new TextDecoder().decode(files[entry]), { strict: true });
  assert.equal(m.metadataVersion, "2.1");
  assert.equal(m.name, "click-loglevel");
  assert.equal(m.version, "0.4.0.post1");
  assert.deepEqual(m.requiresDist.map((r) => `${r.name}${r.specifier.toString()}`), [
    "click>=6.0",
  ]);
  assert.equal(m.requiresPython?.toString(), "~=3.6");
  assert.equal(m.fields.get("classifier")?.length, 13);
  assert.deepEqual(m.fields.get("project-url"), [
    "Source Code, https://github.com/jwodder/click-loglevel",
    "Bug Tracker, https://github.com/jwodder/click-loglevel/issues",
  ]);
  assert.ok(m.description?.startsWith(".. image::"));
});

Deno.test("parseCoreMetadata() returns every generated header value, folded lines included", () => {
  const value = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.;:=<>()-]{0,30}$/).map((s) => s.trim())
    .filter((s) => s !== "");
  const header = fc.constantFrom("Classifier", "Keywords", "Author", "X-Custom-Field");
  fc.assert(
    fc.property(
      fc.array(fc.tuple(header, fc.array(value, { minLength: 1, maxLength: 3 })), { maxLength: 8 }),
      (entries) => {
        const lines = entries.map(([h, parts]) => `${h}: ${parts.join("\n        ")}`);
        const m = parseCoreMetadata(doc("2.1", lines.join("\n") + "\n"));
        for (const h of new Set(entries.map(([h]) => h))) {
          const expected = entries.filter(([k]) => k === h).map(([, parts]) =>
            parts.join("\n        ")
          );
          assert.deepEqual(m.fields.get(h.toLowerCase()), expected);
        }
      },
    ),
  );
});
