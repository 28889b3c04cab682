import assert from "node:assert/strict";
import fc from "fast-check";
import { compareVersions, InvalidVersionError, Version } from "./version.ts";
import { askPackaging, junkText, probeOracle, sample, versionText } from "./_version_testing.ts";

const v = (text: string): Version => Version.parse(text);

Deno.test("Version.parse() normalises the PEP 440 spelling variants", () => {
  const cases: [string, string][] = [
    ["1.0", "1.0"],
    ["v1.0", "1.0"],
    ["V1.0", "1.0"],
    ["  1.0\n", "1.0"],
    ["1.0a1", "1.0a1"],
    ["1.0.alpha.1", "1.0a1"],
    ["1.0-ALPHA_1", "1.0a1"],
    ["1.0a", "1.0a0"],
    ["1.0beta2", "1.0b2"],
    ["1.0c3", "1.0rc3"],
    ["1.0pre4", "1.0rc4"],
    ["1.0preview5", "1.0rc5"],
    ["1.0-1", "1.0.post1"],
    ["1.0.post", "1.0.post0"],
    ["1.0rev2", "1.0.post2"],
    ["1.0-r3", "1.0.post3"],
    ["1.0dev", "1.0.dev0"],
    ["1.0-dev-7", "1.0.dev7"],
    ["1.0+Ubuntu-1_b", "1.0+ubuntu.1.b"],
    ["1.0+001", "1.0+1"],
    ["01.002.0003", "1.2.3"],
    ["0!1.0", "1.0"],
    ["1!2.0.post1.dev3+ubuntu.1", "1!2.0.post1.dev3+ubuntu.1"],
    ["1.0RC1.POST2.DEV3", "1.0rc1.post2.dev3"],
    ["1.0a1-1", "1.0a1.post1"],
    ["1.0_post_", "1.0.post0"],
  ];
  for (const [input, normal] of cases) {
    assert.equal(v(input).toString(), normal, input);
  }
});

Deno.test("Version.parse() exposes the parsed components", () => {
  const x = v("2!1.2.3rc4.post5.dev6+abc.7");
  assert.equal(x.epoch, 2);
  assert.deepEqual(x.release, [1, 2, 3]);
  assert.deepEqual(x.pre, ["rc", 4]);
  assert.equal(x.post, 5);
  assert.equal(x.dev, 6);
  assert.deepEqual(x.local, ["abc", 7]);
  assert.equal(x.public, "2!1.2.3rc4.post5.dev6");
  assert.equal(x.baseVersion, "2!1.2.3");
  assert.ok(x.isPrerelease && x.isPostrelease && x.isDevrelease);
  const plain = v("1.0");
  assert.equal(plain.pre, undefined);
  assert.equal(plain.post, undefined);
  assert.equal(plain.dev, undefined);
  assert.equal(plain.local, undefined);
  assert.ok(!plain.isPrerelease && !plain.isPostrelease && !plain.isDevrelease);
  assert.ok(v("1.0.dev1").isPrerelease, "a dev release is a pre-release");
  assert.ok(!v("1.0.post1").isPrerelease);
});

Deno.test("Version.parse() rejects non-PEP 440 text with InvalidVersionError", () => {
  for (
    const bad of [
      "",
      " ",
      "french toast",
      "1.0.",
      ".1",
      "1..0",
      "1.0+",
      "1.0+local+more",
      "1.0 a1",
      "1.0a1a2",
      "1!",
      "1.*",
      "1.0-",
      "1.0+loc al",
      "1.0.dev.post1",
      "v",
      "1.0\u00e9",
      "1.0+\u00e9",
    ]
  ) {
    assert.throws(() => v(bad), (e: unknown) => {
      assert.ok(e instanceof InvalidVersionError, bad);
      assert.ok(e instanceof SyntaxError);
      assert.equal(e.code, "invalid-version");
      assert.equal(e.input, bad);
      assert.equal(e.name, "InvalidVersionError");
      assert.match(e.message, /Invalid version/);
      return true;
    });
    assert.equal(Version.tryParse(bad), undefined, bad);
  }
  assert.throws(() => Version.parse(42 as unknown as string), InvalidVersionError);
});

Deno.test("Version order follows the PEP 440 summary of permitted suffixes", () => {
  // From PEP 440, "Summary of permitted suffixes and relative ordering", extended with epochs
  // and local labels.
  const ordered = [
    "1.dev0",
    "1.0.dev456",
    "1.0a1",
    "1.0a2.dev456",
    "1.0a12.dev456",
    "1.0a12",
    "1.0b1.dev456",
    "1.0b2",
    "1.0b2.post345.dev456",
    "1.0b2.post345",
    "1.0rc1.dev456",
    "1.0rc1",
    "1.0",
    "1.0+abc.5",
    "1.0+abc.7",
    "1.0+5",
    "1.0.post456.dev34",
    "1.0.post456",
    "1.0.15",
    "1.1.dev1",
    "2.0",
    "1!0.1",
  ].map(v);
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      const expected = Math.sign(i - j);
      assert.equal(
        ordered[i]!.compare(ordered[j]!),
        expected,
        `${ordered[i]} vs ${ordered[j]}`,
      );
    }
  }
});

Deno.test("Version equality ignores trailing zeros and spelling but not local labels", () => {
  assert.ok(v("1.0").equals(v("1.0.0.0")));
  assert.ok(v("1").equals(v("v1.0")));
  assert.ok(v("1.0a").equals(v("1.0.alpha.0")));
  assert.ok(v("1.0+abc").equals(v("1.0+ABC")));
  assert.ok(v("1.0+1").equals(v("1.0+01")));
  assert.ok(!v("1.0").equals(v("1.0+0")));
  assert.ok(!v("1.0").equals(v("1!1.0")));
  assert.equal(compareVersions(v("1.0+a"), v("1.0+1")), -1, "strings sort before numbers");
  assert.equal(compareVersions(v("1.0+1.a"), v("1.0+1")), 1, "longer local sorts later");
});

Deno.test("Version keeps numbers beyond 2^53 exact", () => {
  const big = "1.20230101123456789012";
  assert.equal(v(big).toString(), big);
  assert.equal(v(`${big}1`).compare(v(`${big}0`)), 1);
  assert.equal(v(`${big}`).compare(v("1.20230101123456789013")), -1);
  assert.equal(v("1.0+99999999999999999999").compare(v("1.0+99999999999999999998")), 1);
  assert.equal(v("1.0.dev99999999999999999999").toString(), "1.0.dev99999999999999999999");
});

Deno.test("Version.compare() is a total order consistent with equals (property)", () => {
  fc.assert(
    fc.property(versionText, versionText, versionText, (a, b, c) => {
      const [x, y, z] = [v(a), v(b), v(c)];
      const xy = x.compare(y);
      assert.equal(xy + y.compare(x), 0, "antisymmetric");
      assert.equal(x.compare(x), 0, "reflexive");
      assert.equal(xy === 0, x.equals(y));
      if (xy <= 0 && y.compare(z) <= 0) assert.ok(x.compare(z) <= 0, "transitive");
    }),
    { seed: 440, numRuns: 2000 },
  );
});

Deno.test("Version.toString() round-trips through Version.parse() (property)", () => {
  fc.assert(
    fc.property(versionText, (text) => {
      const x = v(text);
      const again = v(x.toString());
      assert.ok(again.equals(x));
      assert.equal(again.toString(), x.toString(), "normal form is a fixed point");
      assert.deepEqual(again.release, x.release);
      assert.ok(v(x.public).equals(v(x.toString().split("+")[0]!)));
    }),
    { seed: 503, numRuns: 2000 },
  );
});

Deno.test("Version.tryParse() agrees with Version.parse() on arbitrary text (property)", () => {
  fc.assert(
    fc.property(fc.oneof(junkText, fc.string()), (text) => {
      const parsed = Version.tryParse(text);
      if (parsed === undefined) assert.throws(() => v(text), InvalidVersionError);
      else assert.ok(v(text).equals(parsed));
    }),
    { seed: 7, numRuns: 2000 },
  );
});

Deno.test("every version in the resolvelib test indexes parses", async () => {
  const dir = new URL("../tests/data/third_party/resolvelib/inputs/index/", import.meta.url);
  // Versions packaging also rejects would be listed here with the reason; there are none.
  const knowinglyInvalid = new Map<string, string>();
  let count = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".json")) continue;
    const index = JSON.parse(await Deno.readTextFile(new URL(entry.name, dir)));
    for (const [project, versions] of Object.entries(index)) {
      // backjump-test-3.json has a stray top-level boolean, "needs_optimistic".
      if (typeof versions !== "object" || versions === null) continue;
      for (const text of Object.keys(versions)) {
        count++;
        const parsed = Version.tryParse(text);
        if (parsed === undefined) {
          assert.ok(knowinglyInvalid.has(text), `${entry.name}: ${project} ${text} should parse`);
        } else {
          assert.ok(v(parsed.toString()).equals(parsed));
        }
      }
    }
  }
  assert.ok(count > 10_000, `only ${count} versions found`);
});

const oracle = await probeOracle();
if (!oracle.ok) {
  console.warn(`SKIPPING differential version tests against packaging: ${oracle.why}`);
}

Deno.test({
  name: "Version parsing, normal form and order match packaging (differential)",
  ignore: !oracle.ok,
  fn: async () => {
    const valid = sample(versionText, 1500, 44);
    const junk = sample(junkText, 1500, 45);
    const spaced = sample(versionText, 200, 46).map((x, i) => ["  ", "\t", "\n", " v"][i % 4] + x);
    const versions = [...valid, ...junk, ...spaced];
    const answer = await askPackaging({ versions, specifiers: [], sets: [] });
    const ours = versions.map((text) => Version.tryParse(text));
    const mismatches: string[] = [];
    versions.forEach((text, i) => {
      const theirs = answer.versions[i] ?? null;
      const mine = ours[i]?.toString() ?? null;
      if (theirs !== mine) {
        mismatches.push(`${JSON.stringify(text)}: packaging ${theirs}, ours ${mine}`);
      }
    });
    assert.deepEqual(mismatches, [], mismatches.slice(0, 20).join("\n"));
    const parsed = ours.flatMap((x, i) => (x === undefined ? [] : [{ x, rank: answer.ranks[i]! }]));
    for (let i = 0; i < parsed.length; i++) {
      const a = parsed[i]!;
      // Compare every version with a spread of others: O(n * 60) keeps this fast.
      for (let k = 1; k <= 60; k++) {
        const b = parsed[(i * 7 + k * 13) % parsed.length]!;
        assert.equal(
          a.x.compare(b.x),
          Math.sign(a.rank - b.rank),
          `${a.x} vs ${b.x}`,
        );
      }
    }
  },
});
