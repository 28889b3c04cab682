// Tag-list generators that mirror `packaging.tags.cpython_tags`, `generic_tags` and
// `compatible_tags` (packaging 26.x), producing tag strings in priority order.
// Private helper of pep/tags.ts; not re-exported.

/** A Python version as `[major, minor]`. */
export type PythonPair = readonly [number, number];

function nodot(major: number, minor: number): string {
  return `${major}${minor}`;
}

// PEP 703 free-threaded builds carry a "t" in their ABI flags (cp313t).
function isThreaded(abis: readonly string[]): boolean {
  const first = abis[0];
  if (first === undefined) return false;
  const m = /^cp\d+(.*)$/.exec(first);
  return m !== null && (m[1] ?? "").includes("t");
}

/**
 * Tags of a CPython interpreter: `cpXY-<abi>-<plat>` for each ABI, then the stable ABI
 * (`abi3`, or `abi3t` for free-threaded builds), then `none`, then the stable ABI of every older
 * minor version down to 3.2 (PEP 384).
 */
export function cpythonTags(
  python: PythonPair,
  abisIn: readonly string[],
  platforms: readonly string[],
): string[] {
  const interpreter = `cp${nodot(python[0], python[1])}`;
  // abi3 and none always go to their canonical positions, wherever the caller listed them.
  const abis = abisIn.filter((a) => a !== "abi3" && a !== "none");
  const out: string[] = [];
  for (const abi of abis) for (const p of platforms) out.push(`${interpreter}-${abi}-${p}`);
  const threading = isThreaded(abis);
  const stable = python[0] > 3 || (python[0] === 3 && python[1] >= 2);
  const useAbi3 = stable && !threading;
  const useAbi3t = stable && threading;
  if (useAbi3) { for (const p of platforms) out.push(`${interpreter}-abi3-${p}`); }
  if (useAbi3t) { for (const p of platforms) out.push(`${interpreter}-abi3t-${p}`); }
  for (const p of platforms) out.push(`${interpreter}-none-${p}`);
  if (useAbi3 || useAbi3t) {
    for (let minor = python[1] - 1; minor > 1; minor--) {
      const older = `cp${nodot(python[0], minor)}`;
      for (const p of platforms) {
        if (useAbi3) out.push(`${older}-abi3-${p}`);
        if (useAbi3t) out.push(`${older}-abi3t-${p}`);
      }
    }
  }
  return out;
}

/** Tags of a non-CPython interpreter: `<interpreter>-<abi>-<plat>`, `none` appended if absent. */
export function genericTags(
  interpreter: string,
  abisIn: readonly string[],
  platforms: readonly string[],
): string[] {
  const abis = [...abisIn];
  if (!abis.includes("none")) abis.push("none");
  const out: string[] = [];
  for (const abi of abis) for (const p of platforms) out.push(`${interpreter}-${abi}-${p}`);
  return out;
}

function pyInterpreterRange(python: PythonPair): string[] {
  const out = [`py${nodot(python[0], python[1])}`, `py${python[0]}`];
  for (let minor = python[1] - 1; minor >= 0; minor--) out.push(`py${nodot(python[0], minor)}`);
  return out;
}

/**
 * Pure-Python tags: `py3Y..py30-none-<plat>`, then `<interpreter>-none-any` when an interpreter is
 * given, then `py3Y..py30-none-any`.
 */
export function compatibleTags(
  python: PythonPair,
  interpreter: string | undefined,
  platforms: readonly string[],
): string[] {
  const range = pyInterpreterRange(python);
  const out: string[] = [];
  for (const v of range) for (const p of platforms) out.push(`${v}-none-${p}`);
  if (interpreter !== undefined && interpreter !== "") out.push(`${interpreter}-none-any`);
  for (const v of range) out.push(`${v}-none-any`);
  return out;
}
