/**
 * The project's whole test suite, as CI runs it: format check, lint, type check, doc lint, then
 * unit, integration and doc tests. Ends with one line `N passed, N failed` (plus skipped) so CI can read
 * the outcome; exits non-zero when anything failed.
 *
 * Each static check counts as one test; `deno test` results are counted per test case.
 *
 * @module
 */

/** Counts of one step of the suite. */
export interface StepResult {
  passed: number;
  failed: number;
  ignored: number;
}

const decoder = new TextDecoder();

// deno test prints e.g. "ok | 12 passed (3 steps) | 0 failed | 2 ignored (1234ms)".
const SUMMARY_RE =
  /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/m;

async function run(
  name: string,
  args: string[],
): Promise<{ code: number; output: string }> {
  console.log(`\n=== ${name}: deno ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const chunks: string[] = [];
  async function pump(stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout): Promise<void> {
    for await (const chunk of stream) {
      chunks.push(decoder.decode(chunk, { stream: true }));
      await out.write(chunk);
    }
  }
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { code: status.code, output: chunks.join("") };
}

async function staticCheck(name: string, args: string[]): Promise<StepResult> {
  const { code } = await run(name, args);
  return code === 0 ? { passed: 1, failed: 0, ignored: 0 } : { passed: 0, failed: 1, ignored: 0 };
}

/**
 * Reads the counts from `deno test` output and its exit code. Output without a summary line means
 * the run could not start (e.g. a type error), which counts as one failure.
 *
 * @param output Everything `deno test` printed.
 * @param code Its exit code.
 * @returns Counts of passed, failed and ignored tests.
 */
export function parseDenoTestSummary(output: string, code: number): StepResult {
  const m = SUMMARY_RE.exec(output);
  if (!m) return { passed: 0, failed: code === 0 ? 0 : 1, ignored: 0 };
  const result = { passed: Number(m[1]), failed: Number(m[2]), ignored: Number(m[3] ?? 0) };
  if (code !== 0 && result.failed === 0) result.failed = 1;
  return result;
}

async function testStep(name: string, args: string[]): Promise<StepResult> {
  const { code, output } = await run(name, args);
  return parseDenoTestSummary(output, code);
}

async function main(): Promise<number> {
  const results: StepResult[] = [];
  results.push(await staticCheck("format", ["fmt", "--check"]));
  results.push(await staticCheck("lint", ["lint"]));
  results.push(await staticCheck("type check", ["check", "."]));
  // Every export documented (STYLE.md rule 9), on every public entry point of deno.json.
  results.push(
    await staticCheck("doc lint", [
      "doc",
      "--lint",
      "mod.ts",
      "cli/main.ts",
      "pep/mod.ts",
      "index/mod.ts",
      "resolver/mod.ts",
      "fetcher/mod.ts",
      "cache/mod.ts",
      "lock/mod.ts",
      "download/mod.ts",
      "build/mod.ts",
      "serve/mod.ts",
    ]),
  );
  results.push(await testStep("tests", ["test", "-A", "--doc", "--parallel"]));
  const total = results.reduce(
    (a, r) => ({
      passed: a.passed + r.passed,
      failed: a.failed + r.failed,
      ignored: a.ignored + r.ignored,
    }),
    { passed: 0, failed: 0, ignored: 0 },
  );
  console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.ignored} skipped`);
  return total.failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
