// Real pip as the consumer of our output, for end-to-end tests. Every run isolates pip from the
// machine's own configuration (PIP_CONFIG_FILE=/dev/null), so a local mirror or index set up for
// the machine cannot leak into a test. Tests skip, loudly, where python3 with pip is absent.

const decoder = new TextDecoder();

/** What a finished command printed and returned. */
export interface PythonRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment that isolates pip from the machine's configuration. */
export const ISOLATED_PIP_ENV: Record<string, string> = {
  PIP_CONFIG_FILE: "/dev/null",
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
  PIP_NO_INPUT: "1",
};

/**
 * Runs `python3 ARGS` (or another interpreter) with pip isolated; undefined when it cannot start.
 *
 * @param args Arguments after the interpreter.
 * @param cwd Working directory.
 * @param interpreter The interpreter; `python3` by default.
 */
export async function runPython(
  args: string[],
  cwd: string,
  interpreter = "python3",
): Promise<PythonRun | undefined> {
  try {
    const out = await new Deno.Command(interpreter, {
      args,
      cwd,
      env: ISOLATED_PIP_ENV,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch {
    return undefined;
  }
}

/** Whether `python3 -m pip` works here; warns once, naming what is skipped, when it does not. */
export async function havePip(skipping: string): Promise<boolean> {
  const ok = (await runPython(["-m", "pip", "--version"], "."))?.code === 0;
  if (!ok) console.warn(`SKIPPING ${skipping}: python3 -m pip is not available`);
  return ok;
}

/**
 * Makes a fresh venv at `dir` (with the machine's pip) and returns its interpreter.
 *
 * @throws {Error} when the venv cannot be made.
 */
export async function freshVenv(dir: string): Promise<string> {
  const made = await runPython(["-m", "venv", dir], ".");
  if (made?.code !== 0) throw new Error(`python3 -m venv ${dir} failed: ${made?.stderr}`);
  return `${dir}/bin/python`;
}

/** `pip list --format freeze` of an interpreter: one `name==version` line per distribution. */
export async function pipFreeze(python: string): Promise<string> {
  const got = await runPython(["-m", "pip", "list", "--format", "freeze"], ".", python);
  if (got?.code !== 0) throw new Error(`pip list failed: ${got?.stderr}`);
  return got.stdout;
}

/** Whether python3 can make venvs here; warns once, naming what is skipped, when it cannot. */
export async function haveVenv(skipping: string): Promise<boolean> {
  const ok = (await runPython(["-c", "import venv, ensurepip"], "."))?.code === 0;
  if (!ok) console.warn(`SKIPPING ${skipping}: no python3 with venv`);
  return ok;
}
