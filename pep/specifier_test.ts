import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidSpecifierError, Specifier, SpecifierSet } from "./specifier.ts";
import { Version } from "./version.ts";
import {
  askPackaging,
  probeOracle,
  sample,
  specifierSetText,
  specifierText,
  versionText,
} from "./_version_testing.ts";

const v = (text: string): Version => Version.parse(text);
const spec = (text: string): Specifier => Specifier.parse(text);
const set = (text: string): SpecifierSet => SpecifierSet.parse(text);
const PRE = { prereleases: true };

function assertMatches(specText: string, yes: string[], no: string[], options = PRE): void {
  const s = spec(specText);
  for (const x of yes) assert.ok(s.contains(v(x), options), `${specText} should contain ${x}`);
  for (const x of no) assert.ok(!s.contains(v(x), options), `${specText} should not contain ${x}`);
  // A one-specifier set behaves the same.
  const ss = set(specText);
  for (const x of yes) assert.ok(ss.contains(v(x), options), `{${specText}} should contain ${x}`);
  for (const x of no) {
    assert.ok(!ss.contains(v(x), options), `{${specText}} should not contain ${x}`);
  }
}

Deno.test("~= is >= together with a prefix match on all but the last release number", () => {
  // The PEP 440 "Compatible release" examples.
  assertMatches("~=2.2", ["2.2", "2.3", "2.9.post1", "2.2.1"], ["2.1", "3.0", "3.0.dev0", "1!2.2"]);
  assertMatches("~=1.4.5", ["1.4.5", "1.4.9", "1.4.5.post1"], ["1.5.0", "1.4.4", "1.4.5a1"]);
  assertMatches("~=2.2.post3", ["2.2.post3", "2.3", "2.9"], ["2.2", "2.2.post2", "3.0"]);
  assertMatches("~=1.4.5a4", ["1.4.5a4", "1.4.5", "1.4.6"], ["1.4.5a3", "1.5.0"]);
  assertMatches("~=2.2.0", ["2.2.0", "2.2.9"], ["2.3.0", "2.1.9"]);
  assertMatches("~=1!2.3", ["1!2.3", "1!2.9"], ["2.3", "1!3.0"]);
  assertMatches("~=1.0", ["1.0+local", "1.5+local"], ["2.0+local"]);
});

Deno.test("== and != match exactly, padding zeros and ignoring the candidate's local label", () => {
  assertMatches("==1.0", ["1.0", "1.0.0", "1", "1.0+local", "1.0+1.2"], [
    "1.0.post1",
    "1.0a1",
    "1!1.0",
  ]);
  assertMatches("==1.0+abc", ["1.0+abc", "1.0+ABC", "1.0.0+abc"], ["1.0", "1.0+abd", "1.0+abc.1"]);
  assertMatches("!=1.0", ["1.0.post1", "1.1", "0.9", "1.0a1"], ["1.0", "1.0+local"]);
  assertMatches("!=1.0+abc", ["1.0", "1.0+abd"], ["1.0+abc"]);
  assertMatches("==1.0a1", ["1.0a1", "1.0alpha1+x"], ["1.0a2", "1.0"]);
  assertMatches("==0!1.0", ["1.0"], ["1!1.0"]);
});

Deno.test("==X.* and !=X.* match by release prefix, zero-padded, any suffix", () => {
  // PEP 440 "Version matching": "==1.1.*" matches 1.1.post1 and 1.1a1, not 1.10.
  assertMatches("==1.1.*", ["1.1", "1.1.0", "1.1.post1", "1.1a1", "1.1.5.dev1", "1.1+local"], [
    "1.10",
    "1.0",
    "1.2",
    "1!1.1",
  ]);
  assertMatches("==1.0.0.*", ["1", "1.0", "1.0.0.1"], ["1.0.1"]);
  assertMatches("==1!1.*", ["1!1.0", "1!1.9.post1"], ["1.0", "2!1.0"]);
  assertMatches("==0!1.*", ["1.0"], ["1!1.0"]);
  assertMatches("!=1.1.*", ["1.10", "1.0", "2.0"], ["1.1", "1.1a1", "1.1.post1"]);
});

Deno.test("<= and >= compare public versions", () => {
  assertMatches(">=1.0", ["1.0", "1.0+local", "1.0.post1", "2.0", "1.1a1"], [
    "1.0a1",
    "0.9",
    "1.0.dev0",
  ]);
  assertMatches("<=1.0", ["1.0", "1.0+local", "0.9", "1.0a1"], ["1.0.post1", "1.1"]);
  assertMatches(">=1!0", ["1!0.0"], ["9.9"]);
});

Deno.test("<V excludes pre-releases of V and >V excludes post-releases and locals of V", () => {
  // PEP 440 "Exclusive ordered comparison".
  assertMatches("<1.7", ["1.6", "1.6.9.post1", "1.6+local", "1.7.dev0+x"].slice(0, 3), [
    "1.7",
    "1.7.0a1",
    "1.7.dev0",
    "1.7rc1",
    "1.7.post1",
  ]);
  assertMatches("<1.7", ["1.6+local"], ["1.7+local"]);
  assertMatches("<1.7rc1", ["1.7a1", "1.7b2", "1.7.dev0", "1.6"], ["1.7rc1", "1.7rc2", "1.7"]);
  assertMatches("<1.7.post1", ["1.7", "1.7a1", "1.7.post0"], ["1.7.post1.dev0", "1.7.post1"]);
  assertMatches(">1.7", ["1.7.1", "1.8", "1.8a1", "1.7.1.dev0"], [
    "1.7",
    "1.7.post1",
    "1.7.0.post2.dev1",
    "1.7+local",
    "1.6",
  ]);
  assertMatches(">1.7.post2", ["1.7.post3", "1.7.1", "1.7.post3.dev0"], ["1.7.post2", "1.7.post1"]);
  assertMatches(">1.7a1", ["1.7a2", "1.7", "1.7a2+local"], ["1.7a1", "1.7a1.post1", "1.7a1+local"]);
  assertMatches(">1.7.dev1", ["1.7.dev2", "1.7a1", "1.7"], ["1.7.dev1", "1.7.dev0"]);
});

Deno.test("=== compares strings case-insensitively without normalising", () => {
  const s = spec("===1.0");
  assert.ok(s.contains("1.0"));
  assert.ok(s.contains(v("1.0")), "a Version compares by its normal form");
  assert.ok(!s.contains("1.0.0"));
  assert.ok(!s.contains(v("1.0.0")));
  assert.ok(!s.contains("v1.0"), "strings are compared as given");
  assert.ok(spec("===FooBar").contains("foobar"), "unparseable versions still compare");
  assert.ok(!spec("===foobar").contains("foobar2"));
  assert.ok(!spec("==1.0").contains("foobar"), "other operators never match junk");
  assert.ok(spec("===1.0a1").namesPrerelease);
  assert.ok(spec("===1.0a1").contains("1.0A1"));
  assert.ok(!spec("===foobar").namesPrerelease);
});

Deno.test("pre-releases match only when asked for or named by the specifier", () => {
  const s = spec(">=1.0");
  assert.ok(!s.contains(v("2.0a1")));
  assert.ok(!s.contains(v("2.0.dev1")));
  assert.ok(s.contains(v("2.0a1"), { prereleases: true }));
  assert.ok(!spec(">=1.0a1").contains(v("2.0a1"), { prereleases: false }));
  for (const named of [">=1.0a1", "==1.0.dev0", "<=2.0rc1", "~=1.0b1", "<2.0rc1", ">1.0a1"]) {
    assert.ok(spec(named).namesPrerelease, named);
  }
  for (const plain of [">=1.0", "!=1.0a1", "==1.*", "<2.0", "===foo", "==1.0.post1"]) {
    assert.ok(!spec(plain).namesPrerelease, plain);
  }
  assert.ok(spec("==1.0a1").contains("1.0a1"));
  assert.ok(!set(">=1.0").contains(v("2.0b1")));
  assert.ok(set(">=1.0,!=2.0,<3.0rc1").namesPrerelease);
  assert.ok(set(">=1.0,!=2.0,<3.0rc1").contains(v("2.0b1")));
  assert.ok(!SpecifierSet.ANY.contains(v("1.0a1")));
  assert.ok(SpecifierSet.ANY.contains(v("1.0a1"), PRE));
});

Deno.test("SpecifierSet.filter() returns pre-releases only when no final release matches", () => {
  const pick = (s: string, xs: string[], options?: { prereleases?: boolean }): string =>
    set(s).filter(xs.map(v), options).join(" ");
  assert.equal(pick(">=1.2.3", ["1.2", "1.3", "1.5a1"]), "1.3");
  assert.equal(pick(">=1.2.3", ["1.2", "1.5a1"]), "1.5a1");
  assert.equal(pick(">=1.2.3", ["1.2", "1.5a1"], { prereleases: false }), "");
  assert.equal(pick(">=1.2.3", ["1.3", "1.5a1"], PRE), "1.3 1.5a1");
  assert.equal(pick("", ["1.3", "1.5a1"]), "1.3");
  assert.equal(pick("", ["1.5a1", "1.6b1"]), "1.5a1 1.6b1");
  assert.equal(pick("", ["1.5a1"], { prereleases: false }), "");
  assert.equal(pick(">=1.0b1", ["1.0", "1.1a1"]), "1.0 1.1a1", "a named pre-release opts in");
  assert.equal(pick(">=1.0,<2", ["1.0.post1", "1.5rc1", "2.0a1"]), "1.0.post1");
  assert.equal(pick(">=3", ["1.0", "2.0"]), "");
  assert.equal(pick("==1.*", ["2.0a1", "1.0a1", "1.0a2"]), "1.0a1 1.0a2", "input order kept");
});

Deno.test("invalid specifiers are rejected with the column of the problem", () => {
  const cases: [string, number, RegExp][] = [
    ["~=1", 3, /at least two release numbers/],
    ["==1.*+local", 6, /wildcard/],
    [">=1.*", 4, /wildcard is only allowed with "==" and "!="/],
    ["<1.0+local", 5, /local version label/],
    ["1.0", 1, /expected an operator/],
    ["=>1.0", 1, /expected an operator/],
    [">=", 3, /missing/],
    ["  >=  ", 5, /missing/],
    [">= 1.0 2", 7, /not a valid PEP 440 version/],
    ["==1.0a1.*", 8, /wildcard/],
    ["~=1.*", 3, /wildcard/],
    ["== 1.0.", 7, /not a valid/],
    ["", 1, /empty/],
    ["=== foo bar", 8, /may not contain whitespace/],
    ["===foo;", 7, /may not contain/],
  ];
  for (const [text, column, reason] of cases) {
    assert.throws(() => spec(text), (e: unknown) => {
      assert.ok(e instanceof InvalidSpecifierError, text);
      assert.ok(e instanceof SyntaxError);
      assert.equal(e.code, "invalid-specifier");
      assert.equal(e.input, text);
      assert.equal(e.column, column, `${text}: ${e.message}`);
      assert.match(e.message, reason, text);
      return true;
    });
  }
  assert.throws(() => set(">=1.0, <2, ~=3"), (e: unknown) => {
    assert.ok(e instanceof InvalidSpecifierError);
    assert.equal(e.input, ">=1.0, <2, ~=3");
    assert.equal(e.column, 14);
    return true;
  });
  assert.throws(
    () => set(">=1.0,foo"),
    (e: unknown) => e instanceof InvalidSpecifierError && e.column === 7,
  );
});

Deno.test("Specifier and SpecifierSet print as packaging does", () => {
  assert.equal(spec(" >= 1.0 ").toString(), ">=1.0");
  assert.equal(spec(" >= 1.0 ").operator, ">=");
  assert.equal(spec("==V1.0RC1").version, "V1.0RC1", "the version is kept as written");
  assert.equal(spec("=== foo").toString(), "===foo");
  assert.equal(set(">=1.0.0, !=1.0.1").toString(), "!=1.0.1,>=1.0.0");
  assert.equal(set(">=1.0,==1.0.0,==1.0, <3").toString(), "<3,==1.0,>=1.0");
  assert.equal(set("~=1.0,~=1.0.0").toString(), "~=1.0,~=1.0.0", "~= keeps trailing zeros");
  assert.equal(set("").toString(), "");
  assert.equal(set(" , ,").toString(), "");
  assert.deepEqual(set(">=1, <2").specifiers.map(String), [">=1", "<2"], "written order kept");
  assert.ok(set(" , ").isAny && SpecifierSet.ANY.isAny && !set("<2").isAny);
});

Deno.test("SpecifierSet.intersect() keeps both sets' specifiers", () => {
  const both = set(">=1.0").intersect(set("<2,!=1.5"));
  assert.deepEqual(both.specifiers.map(String), [">=1.0", "<2", "!=1.5"]);
  assert.equal(SpecifierSet.ANY.intersect(both), both);
  assert.equal(both.intersect(SpecifierSet.ANY), both);
  assert.ok(set(">=1.0").intersect(set("<2.0b1")).namesPrerelease);
});

Deno.test("a version is in ==v and not in !=v (property)", () => {
  fc.assert(
    fc.property(versionText, (text) => {
      const x = v(text);
      assert.ok(spec(`==${x}`).contains(x), `==${x}`);
      assert.ok(spec(`==${text}`).contains(x), `==${text}`);
      assert.ok(!spec(`!=${x}`).contains(x, PRE), `!=${x}`);
      assert.ok(spec(`===${x}`).contains(x, PRE), `===${x}`);
      assert.ok(spec(`==${x.baseVersion}.*`).contains(x, PRE), `==${x.baseVersion}.*`);
      assert.ok(set(`>=${x.public},<=${x.public}`).contains(x), `>=${x.public},<=${x.public}`);
    }),
    { seed: 1, numRuns: 1500 },
  );
});

Deno.test(">=a and <a partition the final releases (property)", () => {
  fc.assert(
    fc.property(versionText, versionText, (a, b) => {
      const x = v(b);
      const bound = v(a).public;
      if (x.isPrerelease) return;
      const ge = spec(`>=${bound}`).contains(x);
      const lt = spec(`<${bound}`).contains(x);
      assert.notEqual(ge, lt, `${x} against ${bound}`);
      const le = spec(`<=${bound}`).contains(x);
      const gt = spec(`>${bound}`).contains(x);
      assert.ok(!(le && gt), `${x} both <= and > ${bound}`);
    }),
    { seed: 2, numRuns: 3000 },
  );
});

/** Specifier set strings that parse. */
const validSet = specifierSetText.filter((t) => {
  try {
    set(t);
    return true;
  } catch {
    return false;
  }
});

Deno.test("intersect(A, B) contains exactly what both contain (property)", () => {
  fc.assert(
    fc.property(validSet, validSet, versionText, fc.boolean(), (a, b, text, pre) => {
      const [sa, sb, x] = [set(a), set(b), v(text)];
      const both = sa.intersect(sb);
      assert.equal(
        both.contains(x, { prereleases: pre }),
        sa.contains(x, { prereleases: pre }) && sb.contains(x, { prereleases: pre }),
      );
      assert.equal(both.namesPrerelease, sa.namesPrerelease || sb.namesPrerelease);
      assert.equal(set(both.toString()).toString(), both.toString(), "printing round-trips");
    }),
    { seed: 3, numRuns: 2000 },
  );
});

Deno.test("filter() is contains() plus the pre-release fallback (property)", () => {
  fc.assert(
    fc.property(validSet, fc.array(versionText, { maxLength: 12 }), (t, texts) => {
      const s = set(t);
      const xs = texts.map(v);
      for (const pre of [true, false]) {
        assert.deepEqual(
          s.filter(xs, { prereleases: pre }),
          xs.filter((x) => s.contains(x, { prereleases: pre })),
        );
      }
      const all = xs.filter((x) => s.contains(x, PRE));
      const finals = all.filter((x) => !x.isPrerelease);
      const expected = s.namesPrerelease ? all : finals.length > 0 ? finals : all;
      assert.deepEqual(s.filter(xs), expected);
    }),
    { seed: 4, numRuns: 1000 },
  );
});

/**
 * Whether packaging 26's string-based "~=" prefix differs from PEP 440's (release minus its last
 * number). packaging splits the specifier text on "." and stops at the first item that starts
 * with a suffix letter, so a pre-release spelled with a dot before its number ("~=2.1.0b.3")
 * leaks into the prefix ("2.1.0b0.*") and the specifier then rejects even 2.1.0b3. We follow
 * PEP 440 (as uv does) and leave such specifiers out of the differential comparison. Likewise
 * a "v" before the release ("~=v1.1") makes packaging's prefix "0!v1.*", which is not a version,
 * so packaging matches nothing at all.
 */
function packagingCompatiblePrefixDiverges(text: string): boolean {
  const s = Specifier.parse(text);
  if (s.operator !== "~=") return false;
  if (/^v/i.test(s.version)) return true;
  const rest = s.version.replace(/^v?(?:[0-9]+!)?/i, "");
  const items = rest.split(".").flatMap((item) => {
    const m = /^([0-9]+)((?:a|b|c|rc)[0-9]+)$/.exec(item);
    return m ? [m[1]!, m[2]!] : [item];
  });
  const kept: string[] = [];
  for (const item of items) {
    if (["dev", "a", "b", "rc", "post"].some((p) => item.startsWith(p))) break;
    kept.push(item);
  }
  const prefix = kept.slice(0, -1);
  const release = Version.parse(s.version).release.slice(0, -1);
  return prefix.length !== release.length ||
    prefix.some((item, i) => !/^[0-9]+$/.test(item) || Number(item) !== release[i]);
}

/** Specifier sets written in the Requires-Dist of the resolvelib indexes (legacy "(...)" too). */
async function realWorldSpecifierSets(): Promise<string[]> {
  const dir = new URL("../tests/data/third_party/resolvelib/inputs/index/", import.meta.url);
  const found = new Set<string>();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".json")) continue;
    const index = JSON.parse(await Deno.readTextFile(new URL(entry.name, dir)));
    for (const versions of Object.values(index)) {
      if (typeof versions !== "object" || versions === null) continue;
      for (const info of Object.values(versions as Record<string, { dependencies?: string[] }>)) {
        for (const dep of info.dependencies ?? []) {
          const m = /^\s*[A-Za-z0-9._-]+\s*(?:\[[^\]]*\])?\s*\(?([^;()@]*)\)?/.exec(dep);
          const text = m?.[1]?.trim();
          if (text) found.add(text);
        }
      }
    }
  }
  return [...found].sort();
}

Deno.test("every specifier set in the resolvelib test indexes parses", async () => {
  const sets = await realWorldSpecifierSets();
  assert.ok(sets.length > 500, `only ${sets.length} found`);
  for (const text of sets) set(text);
});

const oracle = await probeOracle();
if (!oracle.ok) {
  console.warn(`SKIPPING differential specifier tests against packaging: ${oracle.why}`);
}

Deno.test({
  name: "Specifier and SpecifierSet agree with packaging (differential)",
  ignore: !oracle.ok,
  fn: async () => {
    const versions = sample(versionText, 400, 10);
    const real = await realWorldSpecifierSets();
    const diverges = (t: string): boolean =>
      t.split(",").some((item) => {
        try {
          return packagingCompatiblePrefixDiverges(item);
        } catch {
          return false;
        }
      });
    const specifiers = [...sample(specifierText, 600, 11), ...real.filter((t) => !t.includes(","))]
      .filter((t) => !diverges(t));
    const sets = [...sample(specifierSetText, 300, 12), ...real.filter((_, i) => i % 5 === 0)]
      .filter((t) => !diverges(t));
    const answer = await askPackaging({ versions, specifiers, sets });
    const parsed = versions.map(v);
    const problems: string[] = [];
    // packaging's answer is one "0"/"1" string per mode (default, prereleases on, off), a
    // character per version; report the first version where ours differs in each mode.
    const compareContains = (
      s: Specifier | SpecifierSet,
      label: string,
      expected: readonly string[],
    ): void => {
      const modes = [undefined, PRE, { prereleases: false }];
      modes.forEach((options, k) => {
        const got = parsed.map((x) => (s.contains(x, options) ? "1" : "0")).join("");
        if (got !== expected[k]) {
          const at = [...got].findIndex((c, j) => c !== expected[k]![j]);
          problems.push(
            `${label} contains ${parsed[at]} (mode ${k}): packaging ${expected[k]![at]}, ours ${
              got[at]
            }`,
          );
        }
      });
    };
    specifiers.forEach((text, i) => {
      let ours: Specifier | undefined;
      try {
        ours = spec(text);
      } catch (e) {
        if (!(e instanceof InvalidSpecifierError)) throw e;
      }
      const theirs = answer.specifiers[i] ?? null;
      if ((ours?.toString() ?? null) !== theirs) {
        problems.push(`${JSON.stringify(text)}: packaging ${theirs}, ours ${ours}`);
        return;
      }
      if (ours === undefined) return;
      compareContains(ours, text, answer.contains[i]!);
    });
    sets.forEach((text, i) => {
      let ours: SpecifierSet | undefined;
      try {
        ours = set(text);
      } catch (e) {
        if (!(e instanceof InvalidSpecifierError)) throw e;
      }
      const theirs = answer.sets[i] ?? null;
      if ((ours?.toString() ?? null) !== theirs) {
        problems.push(`set ${JSON.stringify(text)}: packaging ${theirs}, ours ${ours}`);
        return;
      }
      if (ours === undefined) return;
      const s = ours;
      const filters = answer.filters[i]!;
      [undefined, true, false].forEach((pre, k) => {
        const got = s.filter(parsed, { prereleases: pre }).map((x) => parsed.indexOf(x));
        if (JSON.stringify(got) !== JSON.stringify(filters[k])) {
          problems.push(
            `set ${text} filter (prereleases ${pre}): packaging ${filters[k]}, ours ${got}`,
          );
        }
      });
      compareContains(s, `set ${text}`, answer.setContains[i]!);
    });
    assert.deepEqual(
      problems,
      [],
      `${problems.length} disagreements:\n${problems.slice(0, 30).join("\n")}`,
    );
  },
});
