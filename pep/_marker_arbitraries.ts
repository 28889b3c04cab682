// Test-only helper: fast-check generators of marker text and environments, shared by
// marker_test.ts and requirement_test.ts. The pools mix values that compare as versions, values
// that do not, prereleases, case variants and substrings so that every evaluation path is hit.

import fc from "fast-check";
import type { MarkerEnvironment } from "./marker.ts";

/** Spellings of each variable that the parser accepts (aliases and dotted forms included). */
const SPELLINGS: Readonly<Record<string, readonly string[]>> = {
  python_version: ["python_version"],
  python_full_version: ["python_full_version"],
  implementation_version: ["implementation_version"],
  platform_release: ["platform_release"],
  os_name: ["os_name", "os.name"],
  sys_platform: ["sys_platform", "sys.platform"],
  platform_system: ["platform_system"],
  platform_version: ["platform_version", "platform.version"],
  platform_machine: ["platform_machine", "platform.machine"],
  platform_python_implementation: [
    "platform_python_implementation",
    "platform.python_implementation",
    "python_implementation",
  ],
  implementation_name: ["implementation_name"],
};

/** Values each variable takes in generated environments. */
export const ENV_POOLS: Readonly<Record<keyof MarkerEnvironment, readonly string[]>> = {
  python_version: ["2.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"],
  python_full_version: ["2.7.18", "3.8.0", "3.10.12", "3.11.7", "3.13.0rc1", "3.12.0a1", "3.13.0+"],
  implementation_version: ["3.11.7", "7.3.13", "3.13.0b2", "0"],
  platform_release: ["6.1.0", "5.15.0-91-generic", "10", "22.6.0", ""],
  os_name: ["posix", "nt", "java"],
  sys_platform: ["linux", "win32", "darwin", "cygwin", "emscripten"],
  platform_system: ["Linux", "Windows", "Darwin", "Java", ""],
  platform_version: ["#1 SMP PREEMPT_DYNAMIC", "10.0.19041", "Darwin Kernel Version 22.6.0"],
  platform_machine: ["x86_64", "AMD64", "arm64", "aarch64", "i686", "ARM64"],
  platform_python_implementation: ["CPython", "PyPy", "Jython", "GraalVM"],
  implementation_name: ["cpython", "pypy", "graalpy"],
};

const VERSION_LITERALS = [
  "3",
  "3.8",
  "3.10",
  "3.11",
  "3.11.7",
  "3.13",
  "3.13.0",
  "3.13.0rc1",
  "3.12.0a1",
  "2.7",
  "3.*",
  "3.11.*",
  "1!3.8",
  "3.11.7+local",
  "v3.9",
  "6.1",
  "5.15.0-91-generic",
  "3.11 ",
  " 3.9",
  "foo",
  "",
  "3.13.0+",
];

const VERSION_VARIABLES = new Set([
  "python_version",
  "python_full_version",
  "implementation_version",
  "platform_release",
]);

const OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in", "~=", "==="] as const;
const EXTRA_LITERALS = ["gui", "socks", "test-all", "docs"];
/** Extras requested in environments, written in several spellings. */
export const EXTRA_POOL: readonly string[] = ["gui", "Socks", "test_all", "TEST.ALL", "cli"];

function stringLiteralsFor(variable: string): string[] {
  const pool = (ENV_POOLS as Record<string, readonly string[]>)[variable] ?? [];
  // Substrings and case variants exercise `in` and case-sensitive equality.
  return [...pool, ...pool.map((v) => v.toLowerCase()), "in", "x8", "win", "Lin", ""];
}

function quote(value: string, single: boolean): string {
  return single ? `'${value}'` : `"${value}"`;
}

const space = fc.constantFrom("", " ", "  ", "\t");
const wordSpace = fc.constantFrom(" ", "  ", "\t");

/** One comparison such as `python_version >= "3.8"` or `'3.8' <= python_version`. */
export const comparisonArbitrary: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      variable: fc.constantFrom(...Object.keys(SPELLINGS)),
      spelling: fc.nat(),
      op: fc.constantFrom(...OPS),
      literal: fc.nat(),
      reversed: fc.boolean(),
      single: fc.boolean(),
      s1: space,
      s2: space,
    }).map(({ variable, spelling, op, literal, reversed, single, s1, s2 }) => {
      const spellings = SPELLINGS[variable]!;
      const name = spellings[spelling % spellings.length]!;
      const pool = VERSION_VARIABLES.has(variable) ? VERSION_LITERALS : stringLiteralsFor(variable);
      let raw = pool[literal % pool.length]!;
      // packaging 26.2 mishandles `~=v3.9` (its prefix keeps the "v" and never matches); PEP 440
      // says the "v" is ignored, as our Specifier does. Not a marker question, so avoid it.
      if (op === "~=") raw = raw.replace(/^v/, "");
      const value = quote(raw, single);
      // Word operators need a boundary next to a variable name.
      const [a, b] = op === "in" || op === "not in" ? [" ", " "] : [s1, s2];
      return reversed ? `${value}${a}${op}${b}${name}` : `${name}${a}${op}${b}${value}`;
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      literal: fc.constantFrom(...EXTRA_LITERALS),
      op: fc.constantFrom("==", "!="),
      reversed: fc.boolean(),
      single: fc.boolean(),
    }).map(({ literal, op, reversed, single }) =>
      reversed ? `${quote(literal, single)} ${op} extra` : `extra ${op} ${quote(literal, single)}`
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      literal: fc.constantFrom(...EXTRA_LITERALS, "Test_All", "dev", "lint"),
      op: fc.constantFrom("in", "not in"),
      variable: fc.constantFrom("extras", "dependency_groups"),
    }).map(({ literal, op, variable }) => `"${literal}" ${op} ${variable}`),
  },
);

/** A marker built from comparisons with `and`, `or` and parentheses. */
export const markerTextArbitrary: fc.Arbitrary<string> = fc.letrec<{ marker: string }>((tie) => ({
  marker: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    comparisonArbitrary,
    fc.record({
      left: tie("marker"),
      op: fc.constantFrom("and", "or"),
      right: tie("marker"),
      s: wordSpace,
    }).map(({ left, op, right, s }) => `${left}${s}${op}${s}${right}`),
    fc.record({ inner: tie("marker"), s1: space, s2: space }).map(({ inner, s1, s2 }) =>
      `(${s1}${inner}${s2})`
    ),
  ),
})).marker;

/** A complete environment drawn from the pools. */
export const environmentArbitrary: fc.Arbitrary<MarkerEnvironment> = fc.record(
  Object.fromEntries(
    Object.entries(ENV_POOLS).map(([key, pool]) => [key, fc.constantFrom(...pool)]),
  ) as { [K in keyof MarkerEnvironment]: fc.Arbitrary<string> },
);

/** Requested extras (0–2 of them, any spelling). */
export const extrasArbitrary: fc.Arbitrary<string[]> = fc.subarray([...EXTRA_POOL], {
  maxLength: 2,
});

/** Requested dependency groups. */
export const groupsArbitrary: fc.Arbitrary<string[]> = fc.subarray(["dev", "Lint", "docs"], {
  maxLength: 2,
});
