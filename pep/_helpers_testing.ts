// Test support shared by several pep/*_test.ts files: a default marker environment, an
// assertion for the modules' coded errors, and a python3 oracle runner (JSON in, JSON out).
// Never imported by library code; the `_testing.ts` suffix keeps it out of the published package.

import assert from "node:assert/strict";
import type { MarkerEnvironment } from "./marker.ts";

/** CPython 3.12.4 on x86_64 Linux, with `overrides` applied. */
export function markerEnv(overrides: Partial<MarkerEnvironment> = {}): MarkerEnvironment {
  return {
    implementation_name: "cpython",
    implementation_version: "3.12.4",
    os_name: "posix",
    platform_machine: "x86_64",
    platform_python_implementation: "CPython",
    platform_release: "6.1.0",
    platform_system: "Linux",
    platform_version: "#1 SMP",
    python_full_version: "3.12.4",
    python_version: "3.12",
    sys_platform: "linux",
    ...overrides,
  };
}

/**
 * Asserts that `fn` throws an `ErrorClass` whose `code` is `code`, then runs `check` on it
 * (for further assertions about the same error).
 */
export function assertThrowsCode<E extends Error & { readonly code: string }>(
  fn: () => unknown,
  ErrorClass: abstract new (...args: never[]) => E,
  code: E["code"],
  check: (error: E) => void = () => {},
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ErrorClass, String(e));
    assert.equal(e.code, code, e.message);
    check(e);
    return true;
  });
}

/** Whether `python3 -c "import <modules>"` succeeds (for `ignore` on differential tests). */
export async function pythonImports(modules: readonly string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", `import ${modules.join(", ")}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Runs `script` in ONE python3 process with `input` as JSON on stdin; returns its JSON stdout. */
export async function runPythonJson<T>(script: string, input: unknown): Promise<T> {
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(input)));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`oracle failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}

/**
 * Whether two printed markers differ only in parentheses. packaging's `_format_marker` drops the
 * parentheses of a doubly-parenthesised group (`((a or b)) and c` prints as `a or b and c`, which
 * means something else); we keep them, so printing round-trips. Differential tests allow exactly
 * that difference.
 */
export function sameUpToPackagingParens(ours: string, theirs: string): boolean {
  const strip = (s: string): string =>
    s.replace(/"[^"]*"|'[^']*'|[()]/g, (m) => (m === "(" || m === ")" ? "" : m)).replace(
      /\s+/g,
      " ",
    )
      .trim();
  return ours !== theirs && strip(ours) === strip(theirs);
}
