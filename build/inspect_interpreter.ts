/**
 * Asks a Python interpreter, in one run, what it is: version, implementation, the facts wheel tags
 * are made of, and its marker environment.
 *
 * @module
 */

import process from "node:process";
import type { MarkerEnvironment } from "../pep/marker.ts";
import { INTERPRETER_PROBE_SCRIPT } from "./_scripts.ts";
import { runProcess } from "./run_process.ts";
import { definedEnv } from "./_util.ts";
import { BuildError, type InterpreterInfo, type RunProcess } from "./types.ts";

/** Options of {@linkcode inspectInterpreter}. */
export interface InspectInterpreterOptions {
  /** Starts processes; default {@linkcode runProcess}. */
  run?: RunProcess;
  /** Environment of the probe (its `PATH` finds a bare command); default this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Cancels the probe. */
  signal?: AbortSignal;
}

interface ProbeAnswer {
  executable: string;
  version: string;
  major: number;
  minor: number;
  implementation: string;
  implementationVersion: string;
  platform: string;
  soabi: string | null;
  extSuffix: string | null;
  gilDisabled: boolean;
  pointerBits: number;
  libc: [string, string];
  markers: MarkerEnvironment;
}

// sys.implementation.name -> the short form used in tags (PEP 425; packaging.tags' INTERPRETER_SHORT_NAMES).
const SHORT_NAMES: Record<string, string> = {
  cpython: "cp",
  pypy: "pp",
  ironpython: "ip",
  jython: "jy",
};

/**
 * The tags an interpreter's extension wheels get, from its probe answer. The platform tag is
 * `sysconfig.get_platform()` with `-` and `.` made `_`, as setuptools' `bdist_wheel` names it.
 */
function tagsOf(a: ProbeAnswer): { interpreterTag: string; abiTag: string; platformTag: string } {
  const short = SHORT_NAMES[a.implementation] ?? a.implementation.slice(0, 2);
  const interpreterTag = `${short}${a.major}${a.minor}`;
  let abiTag: string;
  if (a.implementation === "cpython") {
    abiTag = `cp${a.major}${a.minor}${a.gilDisabled ? "t" : ""}`;
  } else {
    // SOABI such as "pypy310-pp73-x86_64-linux-gnu" → "pypy310_pp73" (the first two fields).
    const parts = (a.soabi ?? a.extSuffix?.split(".")[1] ?? "").split("-");
    abiTag = parts.length >= 2 ? `${parts[0]}_${parts[1]}` : parts[0] || "none";
  }
  abiTag = abiTag.replace(/[-.]/g, "_");
  const platformTag = a.platform.replace(/[-.]/g, "_").toLowerCase();
  return { interpreterTag, abiTag, platformTag };
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}

/**
 * Runs `python` once and reads what it says about itself.
 *
 * @param python The interpreter: a command on `PATH` (default `python3`) or a path.
 * @param options The process runner, the environment, a signal.
 * @returns Its version, implementation, tags and marker environment.
 * @throws {BuildError} `interpreter-missing` when it cannot be started (one line:
 * `Cannot run Python "python9": not found`), `interpreter-failed` when it runs but cannot answer.
 * @example
 * ```ts
 * import { inspectInterpreter } from "./inspect_interpreter.ts";
 * import { BuildError } from "./types.ts";
 * try {
 *   await inspectInterpreter("python9-not-here");
 *   throw new Error("unreachable");
 * } catch (e) {
 *   if (!(e instanceof BuildError) || e.code !== "interpreter-missing") throw e;
 *   if (e.message !== 'Cannot run Python "python9-not-here": not found') throw e;
 * }
 * ```
 */
export async function inspectInterpreter(
  python = "python3",
  options: InspectInterpreterOptions = {},
): Promise<InterpreterInfo> {
  const run = options.run ?? runProcess;
  const env = definedEnv(options.env ?? process.env);
  // -I: neither the user's site nor PYTHON* variables nor the working directory change the answer.
  const args = ["-I", "-c", INTERPRETER_PROBE_SCRIPT];
  const out = await run(python, args, {
    cwd: process.cwd(),
    env,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (out.kind === "not-found") {
    throw new BuildError("interpreter-missing", `Cannot run Python "${python}": not found`);
  }
  if (out.kind === "failed-to-start") {
    throw new BuildError("interpreter-missing", `Cannot run Python "${python}": ${out.message}`);
  }
  if (out.code !== 0) {
    const why = out.code === null
      ? `killed by ${out.signal}`
      : `exit code ${out.code}${out.stderr.trim() ? `: ${lastLine(out.stderr)}` : ""}`;
    throw new BuildError("interpreter-failed", `Cannot ask Python "${python}" what it is: ${why}`);
  }
  let answer: ProbeAnswer;
  try {
    answer = JSON.parse(lastLine(out.stdout)) as ProbeAnswer;
  } catch (e) {
    throw new BuildError(
      "interpreter-failed",
      `Cannot ask Python "${python}" what it is: it printed no answer`,
      { cause: e },
    );
  }
  return {
    command: python,
    executable: answer.executable || python,
    version: answer.version,
    pythonVersion: `${answer.major}.${answer.minor}`,
    implementation: answer.implementation,
    platform: answer.platform,
    soabi: answer.soabi ?? undefined,
    extSuffix: answer.extSuffix ?? undefined,
    ...tagsOf(answer),
    libc: { name: answer.libc[0], version: answer.libc[1] },
    pointerBits: answer.pointerBits,
    markerEnvironment: answer.markers,
  };
}
