import assert from "node:assert/strict";
import fc from "fast-check";
import { Requirement } from "../pep/requirement.ts";
import { targetFromPreset } from "../pep/tags.ts";
import { InMemoryProvider, type InMemoryUniverse } from "./in_memory_provider.ts";
import { resolve, resolveTargets } from "./resolve.ts";
import {
  type MetadataOutcome,
  type Provider,
  type Resolution,
  ResolutionError,
  type ResolveEvent,
  type VersionCandidate,
  type VersionsOutcome,
} from "./types.ts";

const linux = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" });
const windows = targetFromPreset("x86_64-pc-windows-msvc", { pythonVersion: "3.11" });
const linux313 = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.13" });

const reqs = (...texts: string[]) => texts.map((t) => Requirement.parse(t));
const pins = (r: Resolution) =>
  Object.fromEntries([...r.packages.values()].map((p) => [p.name, p.version.toString()]));

async function run(universe: InMemoryUniverse, requested: string[], options = {}) {
  return pins(
    await resolve(reqs(...requested), linux, {
      provider: new InMemoryProvider(universe),
      ...options,
    }),
  );
}

Deno.test("resolve() picks the newest versions and orders packages by name", async () => {
  const r = await resolve(reqs("zeta", "alpha"), linux, {
    provider: new InMemoryProvider({
      zeta: { "1.0": [], "2.0": ["beta"] },
      alpha: { "1.0": [] },
      beta: { "0.1": [] },
    }),
  });
  assert.deepEqual([...r.packages.keys()], ["alpha", "beta", "zeta"]);
  assert.deepEqual(pins(r), { alpha: "1.0", beta: "0.1", zeta: "2.0" });
});

Deno.test("resolve() backtracks when the newest b conflicts with a", async () => {
  assert.deepEqual(
    await run({
      a: { "1.0": ["c<2"] },
      b: { "1.0": ["c<2"], "2.0": ["c>=2"] },
      c: { "1.0": [], "2.0": [] },
    }, ["a", "b"]),
    { a: "1.0", b: "1.0", c: "1.0" },
  );
});

Deno.test("resolve() activates extras, also self-referencing ones, with and without the extra", async () => {
  const universe: InMemoryUniverse = {
    a: {
      "1.0": { requires: [], extras: { x: ["x"], y: ["y>=2"], all: ["a[x,y]"] } },
      "2.0": { requires: [], extras: { x: ["x"], y: ["y>=3"], all: ["a[x,y]"] } },
    },
    x: { "1.0": [] },
    y: { "2.0": [] },
  };
  const r = await resolve(reqs("a[all]", "a"), linux, { provider: new InMemoryProvider(universe) });
  assert.deepEqual(pins(r), { a: "1.0", x: "1.0", y: "2.0" });
  assert.deepEqual(r.packages.get("a")!.extras, ["all", "x", "y"]);
  assert.deepEqual(await run(universe, ["a"]), { a: "2.0" });
});

Deno.test("resolve() evaluates markers against each target", async () => {
  const universe: InMemoryUniverse = {
    a: { "1.0": ["pywin32; sys_platform == 'win32'", "uvloop; sys_platform != 'win32'"] },
    pywin32: { "306": [] },
    uvloop: { "0.19": [] },
  };
  const both = await resolveTargets(reqs("a", "colorama; os_name == 'nt'"), [linux, windows], {
    provider: new InMemoryProvider({ ...universe, colorama: { "0.4": [] } }),
  });
  assert.deepEqual(pins(both.resolutions[0]!), { a: "1.0", uvloop: "0.19" });
  assert.deepEqual(pins(both.resolutions[1]!), { a: "1.0", colorama: "0.4", pywin32: "306" });
});

Deno.test("resolve() honours Requires-Python of files and of metadata for the target's Python", async () => {
  const universe: InMemoryUniverse = {
    a: { "1.0": [], "2.0": { requiresPython: ">=3.12" } },
    b: { "1.0": [], "2.0": { requires: [], files: [{ kind: "wheel", requiresPython: ">=3.13" }] } },
  };
  assert.deepEqual(await run(universe, ["a", "b"]), { a: "1.0", b: "1.0" });
  const r = await resolve(reqs("a", "b"), linux313, { provider: new InMemoryProvider(universe) });
  assert.deepEqual(pins(r), { a: "2.0", b: "2.0" });
});

Deno.test("resolve() applies constraints only to packages that are required", async () => {
  const universe: InMemoryUniverse = {
    a: { "1.0": ["b"], "2.0": ["b"] },
    b: { "1.0": [], "2.0": [] },
    c: { "1.0": [] },
  };
  const r = await resolve(reqs("a"), linux, {
    provider: new InMemoryProvider(universe),
    constraints: reqs("b<2", "c==1.0", "a; sys_platform == 'win32'"),
  });
  assert.deepEqual(pins(r), { a: "2.0", b: "1.0" });
  await assert.rejects(
    resolve(reqs("a"), linux, {
      provider: new InMemoryProvider(universe),
      constraints: reqs("b>5"),
    }),
    (e: unknown) => e instanceof ResolutionError && /you constrain b>5/.test(e.message),
  );
});

Deno.test("resolve() uses yanked versions only for exact pins", async () => {
  const universe: InMemoryUniverse = { a: { "1.0": [], "2.0": { yanked: true } } };
  assert.deepEqual(await run(universe, ["a"]), { a: "1.0" });
  assert.deepEqual(await run(universe, ["a==2.0"]), { a: "2.0" });
  await assert.rejects(
    resolve(reqs("a>1"), linux, { provider: new InMemoryProvider(universe) }),
    /is yanked/,
  );
});

Deno.test("resolve() ignores files uploaded after excludeNewer", async () => {
  const universe: InMemoryUniverse = {
    a: {
      "1.0": { files: [{ kind: "wheel", uploadTime: Date.UTC(2020, 0, 1) }] },
      "2.0": { files: [{ kind: "wheel", uploadTime: Date.UTC(2024, 0, 1) }] },
    },
  };
  assert.deepEqual(await run(universe, ["a"]), { a: "2.0" });
  assert.deepEqual(await run(universe, ["a"], { excludeNewer: Date.UTC(2022, 0, 1) }), {
    a: "1.0",
  });
});

Deno.test("resolve() follows onlyBinary, noBinary and preferBinary", async () => {
  const universe: InMemoryUniverse = {
    a: {
      "1.0": {
        files: [{ kind: "wheel", tags: ["cp311-cp311-manylinux_2_17_x86_64"] }, { kind: "sdist" }],
      },
      "2.0": { files: [{ kind: "sdist" }] },
      "3.0": { files: [{ kind: "wheel", tags: ["cp311-cp311-win_amd64"] }] },
    },
  };
  assert.deepEqual(await run(universe, ["a"]), { a: "2.0" });
  assert.deepEqual(await run(universe, ["a"], { onlyBinary: [":all:"] }), { a: "1.0" });
  assert.deepEqual(await run(universe, ["a"], { preferBinary: true }), { a: "1.0" });
  assert.deepEqual(await run(universe, ["a"], { noBinary: ["a"] }), { a: "2.0" });
  const r = await resolve(reqs("a==1.0"), linux, { provider: new InMemoryProvider(universe) });
  assert.deepEqual(r.packages.get("a")!.files.map((f) => f.kind), ["wheel", "sdist"]);
  await assert.rejects(
    resolve(reqs("a==3.0"), linux, { provider: new InMemoryProvider(universe) }),
    (e: unknown) =>
      e instanceof ResolutionError &&
      e.message.includes("a==3.0 has no wheel for cp311-x86_64-manylinux_2_28"),
  );
});

Deno.test("resolve() lets a package named in one binary list beat :all: in the other, as pip does", async () => {
  const universe: InMemoryUniverse = {
    "example-legacy": {
      "1.0": { files: [{ kind: "wheel" }, { kind: "sdist" }] },
      "2.0": { files: [{ kind: "sdist" }] },
    },
    "example-certs": {
      "1.0": { files: [{ kind: "wheel" }, { kind: "sdist" }] },
      "2.0": { files: [{ kind: "wheel" }] },
    },
  };
  const kinds = async (options: object) => {
    const r = await resolve(reqs("example-legacy", "example-certs"), linux, {
      provider: new InMemoryProvider(universe),
      ...options,
    });
    return Object.fromEntries(
      [...r.packages.values()].map((p) => [
        p.name,
        `${p.version} ${p.files.map((f) => f.kind).join(",")}`,
      ]),
    );
  };
  // --only-binary :all: --no-binary example-legacy: example-legacy's sdist, never its wheels.
  assert.deepEqual(
    await kinds({ onlyBinary: [":all:"], noBinary: ["example-legacy"] }),
    { "example-legacy": "2.0 sdist", "example-certs": "2.0 wheel" },
  );
  const pinned = await resolve(reqs("example-legacy==1.0"), linux, {
    provider: new InMemoryProvider(universe),
    onlyBinary: [":all:"],
    noBinary: ["example-legacy"],
  });
  assert.deepEqual(pinned.packages.get("example-legacy")!.files.map((f) => f.kind), ["sdist"]);
  // --no-binary :all: --only-binary example-certs: example-certs's wheels, never its sdist.
  assert.deepEqual(
    await kinds({ noBinary: [":all:"], onlyBinary: ["example-certs"] }),
    { "example-legacy": "2.0 sdist", "example-certs": "2.0 wheel" },
  );
  assert.deepEqual(
    await kinds({ noBinary: [":all:"], onlyBinary: ["example-certs"], preferBinary: true }),
    { "example-legacy": "2.0 sdist", "example-certs": "2.0 wheel" },
  );
  // Named in both lists, or :all: in both: only-binary wins (the lists carry no order).
  assert.deepEqual(
    await kinds({ onlyBinary: ["example-legacy"], noBinary: ["example-legacy"] }),
    { "example-legacy": "1.0 wheel", "example-certs": "2.0 wheel" },
  );
  assert.deepEqual(
    await kinds({ onlyBinary: [":all:"], noBinary: [":all:"] }),
    { "example-legacy": "1.0 wheel", "example-certs": "2.0 wheel" },
  );
});

Deno.test("resolve() warns, once resolved, about a yanked version used for an exact pin, with its reason", async () => {
  const universe: InMemoryUniverse = {
    a: { "1.0": [], "2.0": { yanked: "broken build" } },
    b: { "1.0": { yanked: true } },
    c: { "1.0": ["a"] },
  };
  const events: ResolveEvent[] = [];
  const r = await resolve(reqs("a==2.0", "c"), linux, {
    provider: new InMemoryProvider(universe),
    constraints: reqs("b===1.0"),
    reporter: { onEvent: (e) => events.push(e) },
  });
  assert.equal(r.packages.get("a")!.files[0]!.yankedReason, "broken build");
  assert.deepEqual(events.filter((e) => e.kind === "warning"), [{
    kind: "warning",
    code: "yanked",
    target: linux.name,
    name: "a",
    version: "2.0",
    message: "a 2.0 is yanked (reason: broken build); it is used only because a==2.0 asks for it",
  }]);
  const more: ResolveEvent[] = [];
  await resolveTargets(reqs("b==1.0"), [linux, windows], {
    provider: new InMemoryProvider(universe),
    reporter: { onEvent: (e) => more.push(e) },
  });
  assert.deepEqual(more.filter((e) => e.kind === "warning"), [{
    kind: "warning",
    code: "yanked",
    target: linux.name,
    name: "b",
    version: "1.0",
    message: "b 1.0 is yanked (no reason given); it is used only because b==1.0 asks for it",
  }]);
  const none: ResolveEvent[] = [];
  await resolve(reqs("a"), linux, {
    provider: new InMemoryProvider(universe),
    reporter: { onEvent: (e) => none.push(e) },
  });
  assert.deepEqual(none.filter((e) => e.kind === "warning"), []);
});

Deno.test("resolve() warns once, for all targets, about an extra the pinned version does not provide", async () => {
  const universe: InMemoryUniverse = {
    a: {
      "1.0": { requires: [], extras: { x: ["x"] } },
      "2.0": { requires: [], extras: { x: ["x"] } },
    },
    x: { "1.0": [] },
    // Old metadata without Provides-Extra, whose markers still name its extra.
    old: { "1.0": ["x; extra == 'y'"] },
  };
  const events: ResolveEvent[] = [];
  const result = await resolveTargets(reqs("a[x,nope]", "a[Nope]", "old[y]"), [linux, windows], {
    provider: new InMemoryProvider(universe),
    reporter: { onEvent: (e) => events.push(e) },
  });
  assert.deepEqual(pins(result.resolutions[0]!), { a: "2.0", old: "1.0", x: "1.0" });
  assert.deepEqual(events.filter((e) => e.kind === "warning"), [{
    kind: "warning",
    code: "missing-extra",
    target: linux.name,
    name: "a",
    version: "2.0",
    message: "a 2.0 does not provide the extra 'nope'",
  }]);
  // Warnings come after the resolution, not for versions a backtrack abandoned.
  const resolvedAt = events.findIndex((e) => e.kind === "resolved");
  assert.ok(events.findIndex((e) => e.kind === "warning") > resolvedAt);
});

Deno.test("resolve() with noDeps pins only the requested packages", async () => {
  assert.deepEqual(await run({ a: { "1.0": ["b"] }, b: { "1.0": [] } }, ["a"], { noDeps: true }), {
    a: "1.0",
  });
});

Deno.test("resolve() explains an unsatisfiable request, naming versions, constraints and the target", async () => {
  const universe: InMemoryUniverse = {
    a: { "1.0": ["b>=2"] },
    b: { "1.0": [], "1.5": [] },
    c: { "1.0": ["nope"] },
  };
  const error = await resolve(reqs("a"), linux, { provider: new InMemoryProvider(universe) }).catch(
    (e) => e,
  );
  assert.ok(error instanceof ResolutionError);
  assert.equal(error.code, "unsatisfiable");
  assert.equal(error.target, linux.name);
  assert.match(
    error.message,
    /a==1.0 depends on b>=2 and no version of b>=2 is available for cp311-x86_64-manylinux_2_28, a==1.0 cannot be used/,
  );
  const missing = await resolve(reqs("c"), linux, { provider: new InMemoryProvider(universe) })
    .catch((e) => e);
  assert.match(missing.message, /nope was not found/);
});

Deno.test("resolve() wraps provider failures and aborts in ResolutionError", async () => {
  const failing: Provider = {
    versions: () => Promise.reject(new Error("index returned 503")),
    metadata: () => Promise.reject(new Error("unused")),
  };
  const error = await resolve(reqs("a"), linux, { provider: failing }).catch((e) => e);
  assert.ok(error instanceof ResolutionError);
  assert.equal(error.code, "provider-failed");
  assert.match(error.message, /index returned 503/);
  const controller = new AbortController();
  controller.abort();
  const aborted = await resolve(reqs("a"), linux, {
    provider: new InMemoryProvider({ a: { "1.0": [] } }),
    signal: controller.signal,
  }).catch((e) => e);
  assert.equal(aborted.code, "aborted");
});

/** A provider with latency that records concurrency. */
class SlowProvider implements Provider {
  readonly prefetch = true;
  readonly #inner: InMemoryProvider;
  inFlight = 0;
  maxInFlight = 0;
  readonly metadataCalls: string[] = [];
  constructor(universe: InMemoryUniverse, readonly delay: number) {
    this.#inner = new InMemoryProvider(universe);
  }
  async #slow<T>(f: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.delay));
    this.inFlight--;
    return f();
  }
  versions(name: string): Promise<VersionsOutcome> {
    return this.#slow(() => this.#inner.versions(name));
  }
  metadata(name: string, c: VersionCandidate): Promise<MetadataOutcome> {
    this.metadataCalls.push(`${name}@${c.version}`);
    return this.#slow(() => this.#inner.metadata(name, c));
  }
}

Deno.test("resolveTargets() fetches metadata once, shares it, and unions the files with their targets", async () => {
  const universe: InMemoryUniverse = {
    a: {
      "1.0": {
        requires: ["b"],
        files: [
          { kind: "wheel", tags: ["cp311-cp311-manylinux_2_17_x86_64"] },
          { kind: "wheel", tags: ["cp313-cp313-manylinux_2_17_x86_64"] },
          { kind: "wheel", tags: ["cp311-cp311-win_amd64"] },
        ],
      },
    },
    b: { "1.0": [] },
  };
  const provider = new SlowProvider(universe, 1);
  const events: ResolveEvent[] = [];
  const result = await resolveTargets(reqs("a"), [linux, linux313, windows], {
    provider,
    reporter: { onEvent: (e) => events.push(e) },
  });
  assert.deepEqual(provider.metadataCalls.sort(), ["a@1.0", "b@1.0"]);
  assert.deepEqual(
    result.files.map((f) => [f.file.filename, f.targets.length]),
    [
      ["a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", 1],
      ["a-1.0-cp311-cp311-win_amd64.whl", 1],
      ["a-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", 1],
      ["b-1.0-py3-none-any.whl", 3],
    ],
  );
  assert.equal(events.filter((e) => e.kind === "resolved").length, 3);
});

Deno.test("resolve() prefetches metadata concurrently, and not at all with concurrency 0", async () => {
  const universe: InMemoryUniverse = {
    root: { "1.0": Array.from({ length: 12 }, (_, i) => `p${i}`) },
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${i}`, { "1.0": [`q${i}`] }])),
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`q${i}`, { "1.0": [] }])),
  };
  const provider = new SlowProvider(universe, 15);
  const started = performance.now();
  const r = await resolve(reqs("root"), linux, { provider, concurrency: 4 });
  const elapsed = performance.now() - started;
  assert.equal(r.packages.size, 25);
  assert.ok(provider.maxInFlight > 1, "requests were never concurrent");
  // Serially this is 50 round-trips (25 pages, 25 metadata) of 15 ms.
  assert.ok(elapsed < 50 * 15, `took ${elapsed} ms`);
  const serial = new SlowProvider(universe, 1);
  await resolve(reqs("root"), linux, { provider: serial, concurrency: 0 });
  assert.equal(serial.metadataCalls.length, 25);
});

// A random universe: packages p0..p4 with versions 1..4 depending on ranges of other packages.
const universeArb = fc.array(
  fc.array(
    fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
      ),
      { maxLength: 2 },
    ),
    { minLength: 4, maxLength: 4 },
  ),
  { minLength: 5, maxLength: 5 },
).map((packages) => {
  const universe: Record<string, Record<string, string[]>> = {};
  packages.forEach((versions, p) => {
    universe[`p${p}`] = {};
    versions.forEach((deps, v) => {
      universe[`p${p}`]![`${v + 1}.0`] = deps
        .filter(([q]) => q !== p)
        .map(([q, lo, span]) => `p${q}>=${lo},<=${lo + span}`);
    });
  });
  return universe;
});

Deno.test("property: a resolution satisfies every requirement it was given and every dependency of what it pins", async () => {
  await fc.assert(
    fc.asyncProperty(
      universeArb,
      fc.subarray(["p0", "p1>=2", "p2<=3", "p3", "p4!=2.0"], { minLength: 1 }),
      async (universe, root) => {
        let result: Resolution;
        try {
          result = await resolve(reqs(...root), linux, {
            provider: new InMemoryProvider(universe),
          });
        } catch (e) {
          if (e instanceof ResolutionError && e.code === "unsatisfiable") return;
          throw e;
        }
        const check = (r: Requirement) => {
          const pinned = result.packages.get(r.normalizedName);
          assert.ok(pinned, `${r} is not pinned`);
          assert.ok(
            r.specifier.contains(pinned.version, { prereleases: true }),
            `${pinned.version} violates ${r}`,
          );
        };
        reqs(...root).forEach(check);
        for (const p of result.packages.values()) p.requirements.forEach(check);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("property: adding a constraint the result already satisfies does not change it", async () => {
  await fc.assert(
    fc.asyncProperty(universeArb, fc.nat(), fc.boolean(), async (universe, pick, exact) => {
      const provider = new InMemoryProvider(universe);
      let first: Resolution;
      try {
        first = await resolve(reqs("p0", "p1"), linux, { provider });
      } catch {
        return;
      }
      const packages = [...first.packages.values()];
      const chosen = packages[pick % packages.length]!;
      const constraint = Requirement.parse(
        `${chosen.name}${exact ? "==" : "<="}${chosen.version}`,
      );
      const second = await resolve(reqs("p0", "p1"), linux, {
        provider,
        constraints: [constraint],
      });
      assert.deepEqual(pins(second), pins(first));
    }),
    { numRuns: 150 },
  );
});

Deno.test("resolve() leaves no unhandled rejection when prefetched pages fail (e.g. on Ctrl-C)", async () => {
  const inner = new InMemoryProvider({
    a: { "1.0": ["b", "c"] },
    b: { "1.0": [] },
    c: { "1.0": [] },
  });
  // Prefetching on; every page but the root's fails, as cancelled requests do.
  const provider: Provider = {
    prefetch: true,
    versions: (name) =>
      name === "a"
        ? inner.versions(name)
        : Promise.reject(new DOMException("The signal has been aborted", "AbortError")),
    metadata: (name, candidate) => inner.metadata(name, candidate),
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (e: PromiseRejectionEvent): void => {
    e.preventDefault();
    unhandled.push(e.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    await assert.rejects(() => resolve(reqs("a"), linux, { provider }), /aborted/);
    // Unhandled rejections are reported after the microtasks of the turn have run.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

Deno.test("resolve() says which version it will likely pick for a dependency it meets, once, before deciding", async () => {
  // a needs b (newest: 2.0 is the guess); c needs b<2, which overrules it; extras are not guessed.
  const universe: InMemoryUniverse = {
    a: { "1.0": ["b", "x[extra]"] },
    c: { "1.0": ["b<2"] },
    b: { "1.0": [], "2.0": [] },
    x: { "1.0": { requires: [], extras: { extra: [] } } },
  };
  const events: ResolveEvent[] = [];
  // Guesses are for slow providers (the network), which prefetch metadata.
  const inner = new InMemoryProvider(universe);
  const provider: Provider = {
    prefetch: true,
    versions: (name) => inner.versions(name),
    metadata: (name, c) => inner.metadata(name, c),
  };
  const r = await resolve(reqs("a", "c"), linux, {
    provider,
    reporter: { onEvent: (e) => events.push(e) },
  });
  assert.equal(r.packages.get("b")!.version.toString(), "1.0");
  const said = events.flatMap((e) =>
    e.kind === "likely" || e.kind === "decided" ? [`${e.kind} ${e.name} ${e.version}`] : []
  );
  const at = (line: string) => said.indexOf(line);
  assert.ok(at("likely b 2.0") !== -1 && at("likely b 2.0") < at("decided b 1.0"), said.join("; "));
  assert.ok(at("likely b 1.0") !== -1 && at("likely b 1.0") < at("decided b 1.0"), said.join("; "));
  assert.equal(new Set(said).size, said.length, "each said once");
  assert.ok(!said.some((l) => l.startsWith("likely x[extra]")), said.join("; "));
  const likely = events.find((e) => e.kind === "likely" && e.name === "b" && e.version === "2.0");
  assert.equal(likely?.kind === "likely" ? likely.file.filename : "", "b-2.0-py3-none-any.whl");
});
