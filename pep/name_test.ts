import assert from "node:assert/strict";
import fc from "fast-check";
import { isValidName, normalizeName } from "./name.ts";

Deno.test("normalizeName() lower-cases and collapses runs of - _ . into one -", () => {
  const cases: [string, string][] = [
    ["Django", "django"],
    ["oslo.concurrency", "oslo-concurrency"],
    ["Foo__Bar--baz..Qux", "foo-bar-baz-qux"],
    ["zope.interface", "zope-interface"],
    ["a-_.-b", "a-b"],
    ["requests", "requests"],
    ["PyYAML", "pyyaml"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeName(input), expected, input);
});

Deno.test("isValidName() accepts the core-metadata Name grammar only", () => {
  for (const good of ["a", "A1", "zope.interface", "foo_bar-baz", "1password", "x.y_z-9"]) {
    assert.ok(isValidName(good), good);
  }
  for (const bad of ["", "-a", "a-", ".a", "a_", "a b", "café", "a/b", "a\n", " a"]) {
    assert.ok(!isValidName(bad), JSON.stringify(bad));
  }
});

const nameChars = fc.string({ unit: fc.constantFrom(..."aAbZ09-_.".split("")), maxLength: 16 });

Deno.test("normalizeName() is idempotent and erases only case and separator spelling (property)", () => {
  fc.assert(
    fc.property(nameChars, nameChars, (a, b) => {
      const n = normalizeName(a);
      assert.equal(normalizeName(n), n, "idempotent");
      assert.ok(!/[A-Z_.]|--/.test(n), "no upper case, _, . or repeated -");
      const same =
        a.toLowerCase().replace(/[-_.]+/g, "-") === b.toLowerCase().replace(/[-_.]+/g, "-");
      assert.equal(normalizeName(a) === normalizeName(b), same);
    }),
    { seed: 503, numRuns: 2000 },
  );
});

Deno.test("a valid name stays valid after normalisation (property)", () => {
  fc.assert(
    fc.property(nameChars, (a) => {
      if (isValidName(a)) assert.ok(isValidName(normalizeName(a)));
    }),
    { seed: 8, numRuns: 2000 },
  );
});
