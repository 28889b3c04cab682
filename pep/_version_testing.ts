// Test support for version_test.ts and specifier_test.ts: fast-check generators of version and
// specifier strings in all the spellings packaging accepts, and a differential oracle that runs
// ONE python3 process with `packaging`. Never imported by library code.

import fc from "fast-check";

const SEPARATORS = ["", "", "", "", ".", ".", "-", "_"];
const PRE_LETTERS = ["a", "a", "b", "rc", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC"];
const POST_LETTERS = ["post", "post", "rev", "r", "POST"];
const LOCAL_PARTS = ["ubuntu", "1", "01", "abc", "2", "deadbeef", "x9"];

/** `arb` one time in `n`, else null. */
function rarely<T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

const small = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20 }) },
);
const numText = fc.oneof(
  { weight: 8, arbitrary: small.map(String) },
  { weight: 1, arbitrary: small.map((n) => `0${n}`) },
);

/** Arbitrary release segments, e.g. "1.0.2". */
export const releaseText: fc.Arbitrary<string> = fc.array(numText, { minLength: 1, maxLength: 3 })
  .map((xs) => xs.join("."));

/** Arbitrary PEP 440 version strings in many spellings (always valid, no whitespace). */
export const versionText: fc.Arbitrary<string> = fc.record({
  v: fc.constantFrom("", "", "", "", "", "", "", "v", "V"),
  epoch: rarely(fc.integer({ min: 0, max: 2 }), 8),
  release: releaseText,
  pre: rarely(
    fc.tuple(
      fc.constantFrom(...SEPARATORS),
      fc.constantFrom(...PRE_LETTERS),
      fc.constantFrom(...SEPARATORS),
      fc.option(numText, { freq: 5 }),
    ),
    3,
  ),
  post: rarely(
    fc.oneof(
      numText.map((n) => `-${n}`),
      fc.tuple(
        fc.constantFrom(...SEPARATORS),
        fc.constantFrom(...POST_LETTERS),
        fc.constantFrom(...SEPARATORS),
        fc.option(numText, { freq: 5 }),
      ).map(([s1, l, s2, n]) => `${s1}${l}${n === null ? "" : s2 + n}`),
    ),
    4,
  ),
  dev: rarely(
    fc.tuple(fc.constantFrom(...SEPARATORS), fc.option(numText, { freq: 5 }))
      .map(([s, n]) => `${s === "" ? "." : s}dev${n ?? ""}`),
    4,
  ),
  local: rarely(
    fc.array(fc.constantFrom(...LOCAL_PARTS), { minLength: 1, maxLength: 3 })
      .chain((parts) =>
        fc.array(fc.constantFrom(".", "-", "_"), {
          minLength: parts.length - 1,
          maxLength: parts.length - 1,
        }).map((seps) => parts.map((p, i) => (i === 0 ? p : seps[i - 1] + p)).join(""))
      ),
    5,
  ),
}).map(({ v, epoch, release, pre, post, dev, local }) => {
  let text = `${v}${epoch === null ? "" : `${epoch}!`}${release}`;
  if (pre !== null) {
    const [s1, l, s2, n] = pre;
    text += `${s1}${l}${n === null ? "" : s2 + n}`;
  }
  // A bare "-N" post needs something before it that is not a separator-eating pre letter.
  if (post !== null) text += post;
  if (dev !== null) text += dev;
  if (local !== null) text += `+${local}`;
  return text;
});

/** Arbitrary strings that are mostly not versions but look like them. */
export const junkText: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom(..."0123456789.!+-_ abcdeprvostl*\t".split("")),
  maxLength: 12,
});

/** Arbitrary specifier strings, mostly valid, some invalid (wildcards, locals, ~=N). */
export const specifierText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(
      fc.constantFrom("==", "!=", "<=", ">=", "<", ">", "~="),
      fc.constantFrom("", "", "", " "),
      versionText,
    ).map(([op, ws, v]) => `${op}${ws}${v}`),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom("==", "!=", "==", "!=", ">=", "~="),
      rarely(fc.integer({ min: 0, max: 1 }), 6),
      releaseText,
    ).map(([op, e, r]) => `${op}${e === null ? "" : `${e}!`}${r}.*`),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom("===", "=== "), versionText).map(([op, v]) => `${op}${v}`),
  },
  { weight: 1, arbitrary: junkText },
);

/** Arbitrary specifier-set strings: 0 to 3 specifiers joined by commas. */
export const specifierSetText: fc.Arbitrary<string> = fc.array(specifierText, { maxLength: 3 })
  .map((xs) => xs.join(", "));

/** What the packaging oracle says about one batch. */
export interface OracleAnswer {
  readonly packaging: string;
  /** Per input version: its normal form, or null when packaging rejects it. */
  readonly versions: readonly (string | null)[];
  /** Per input version: rank in packaging's sort order (equal versions share one), or -1. */
  readonly ranks: readonly number[];
  /** Per specifier: its str(), or null when packaging rejects it. */
  readonly specifiers: readonly (string | null)[];
  /**
   * Per specifier, per valid version (in input order): "1"/"0" for contains with
   * prereleases = default (our contract), True, False.
   */
  readonly contains: readonly (readonly [string, string, string] | null)[];
  /** Per set: str(), or null when invalid. */
  readonly sets: readonly (string | null)[];
  /** Per set: filter() of the valid versions as indices into them, for None, True, False. */
  readonly filters: readonly (readonly [number[], number[], number[]] | null)[];
  /** Per set: contains() under the default, True and False. */
  readonly setContains: readonly (readonly [string, string, string] | null)[];
}

const ORACLE = String.raw`
import json, sys
try:
    import packaging
    from packaging.version import Version, InvalidVersion
    from packaging.specifiers import Specifier, SpecifierSet, InvalidSpecifier
    where = "packaging " + packaging.__version__
except ImportError:
    from pip._vendor import packaging
    from pip._vendor.packaging.version import Version, InvalidVersion
    from pip._vendor.packaging.specifiers import Specifier, SpecifierSet, InvalidSpecifier
    where = "pip._vendor.packaging " + packaging.__version__
major = int(packaging.__version__.split(".")[0])
if major < 22:
    print(json.dumps({"unsupported": where}))
    sys.exit(0)
data = json.load(open(sys.argv[1]))
if data.get("probe"):
    print(json.dumps({"packaging": where}))
    sys.exit(0)
versions = []
out_versions = []
for text in data["versions"]:
    try:
        v = Version(text)
        versions.append(v)
        out_versions.append(str(v))
    except InvalidVersion:
        out_versions.append(None)
order = sorted(set(versions))
rank = {v: i for i, v in enumerate(order)}
ranks = [rank[Version(t)] if o is not None else -1 for t, o in zip(data["versions"], out_versions)]
def bits(xs):
    return "".join("1" if x else "0" for x in xs)
out_specs, out_contains = [], []
for text in data["specifiers"]:
    try:
        s = Specifier(text)
    except InvalidSpecifier:
        out_specs.append(None); out_contains.append(None); continue
    out_specs.append(str(s))
    default = bool(s.prereleases)
    out_contains.append([
        bits(s.contains(v, prereleases=default) for v in versions),
        bits(s.contains(v, prereleases=True) for v in versions),
        bits(s.contains(v, prereleases=False) for v in versions),
    ])
out_sets, out_filters, out_set_contains = [], [], []
index = {id(v): i for i, v in enumerate(versions)}
for text in data["sets"]:
    try:
        s = SpecifierSet(text)
    except InvalidSpecifier:
        out_sets.append(None); out_filters.append(None); out_set_contains.append(None); continue
    out_sets.append(str(s))
    out_filters.append([[index[id(v)] for v in s.filter(versions, prereleases=p)] for p in (None, True, False)])
    default = bool(s.prereleases)
    out_set_contains.append([
        bits(s.contains(v, prereleases=default) for v in versions),
        bits(s.contains(v, prereleases=True) for v in versions),
        bits(s.contains(v, prereleases=False) for v in versions),
    ])
print(json.dumps({"packaging": where, "versions": out_versions, "ranks": ranks,
    "specifiers": out_specs, "contains": out_contains, "sets": out_sets,
    "filters": out_filters, "setContains": out_set_contains}))
`;

async function runOracle(payload: unknown): Promise<Record<string, unknown>> {
  const file = await Deno.makeTempFile({ prefix: "wheelhouse-pep440-", suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(payload));
    const out = await new Deno.Command("python3", {
      args: ["-c", ORACLE, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`python3 oracle failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(file);
  }
}

/**
 * Finds out whether a python3 with packaging >= 22 can serve as the oracle; returns a reason
 * to skip when it cannot.
 */
export async function probeOracle(): Promise<
  { ok: true; name: string } | { ok: false; why: string }
> {
  try {
    const answer = await runOracle({ probe: true });
    if (typeof answer.unsupported === "string") {
      return { ok: false, why: `${answer.unsupported} is older than 22 (legacy semantics)` };
    }
    return { ok: true, name: String(answer.packaging) };
  } catch (error) {
    return { ok: false, why: `python3 with packaging is not usable: ${error}` };
  }
}

/** Asks packaging about a batch of versions, specifiers and specifier sets, in one process. */
export async function askPackaging(
  batch: { versions: string[]; specifiers: string[]; sets: string[] },
): Promise<OracleAnswer> {
  return await runOracle(batch) as unknown as OracleAnswer;
}

/** Draws a fixed-seed sample from an arbitrary (deterministic across runs). */
export function sample<T>(arb: fc.Arbitrary<T>, count: number, seed: number): T[] {
  return fc.sample(arb, { numRuns: count, seed });
}
