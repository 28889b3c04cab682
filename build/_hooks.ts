// Calling one PEP 517 hook: the request goes into a control folder as JSON, the hook runner
// (_scripts.ts) runs in the source tree, the outcome comes back as JSON, and everything the
// backend prints is appended to the operation's log. Failures become BuildErrors that say which
// hook of which backend failed for which project, with the end of the output and the log's path.

import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { errnoOf, lastLines, randomToken } from "./_util.ts";
import { BuildError, type BuildReporter, type HookName, type RunProcess } from "./types.ts";

/** How many lines of a failing backend's output its error shows. */
export const TAIL_LINES = 30;

export interface HookContext {
  /** The interpreter's executable. */
  python: string;
  /** The hook runner script, written in the cache. */
  runnerPath: string;
  /** The project folder (the hooks' working directory). */
  sourceDir: string;
  /** The whole environment of the hook process. */
  processEnv: Readonly<Record<string, string>>;
  backend: string;
  /** Absolute backend-path folders. */
  backendPath: readonly string[];
  project: string;
  /** The operation's temp folder (control folders go there). */
  workDir: string;
  /** The operation's log (appended to). */
  logPath: string;
  /** Where the logs of failed builds are kept. */
  failedLogDir: string;
  run: RunProcess;
  now: () => number;
  random: () => number;
  signal: AbortSignal | undefined;
  reporter: BuildReporter | undefined;
}

/** What a hook gave back. */
export type HookResult = { kind: "ok"; value: unknown } | { kind: "missing" };

interface RunnerOutcome {
  status:
    | "ok"
    | "hook-missing"
    | "backend-unavailable"
    | "backend-invalid"
    | "unsupported"
    | "hook-failed";
  value?: unknown;
  message?: string;
}

const ACTION: Record<HookName, string> = {
  get_requires_for_build_wheel: "get the wheel build requirements of",
  get_requires_for_build_sdist: "get the sdist build requirements of",
  prepare_metadata_for_build_wheel: "prepare metadata for",
  build_wheel: "build a wheel for",
  build_sdist: "build an sdist for",
};

/** `Cannot build a wheel for "demo"`: the start of every message about a hook. */
export function hookFailure(hook: HookName, project: string): string {
  return `Cannot ${ACTION[hook]} "${project}"`;
}

/** Moves the log of a failed operation where it is kept, and returns its new path. */
async function keepLog(ctx: HookContext, hook: HookName): Promise<string> {
  await fsp.mkdir(ctx.failedLogDir, { recursive: true });
  const stamp = new Date(ctx.now()).toISOString().replace(/[:.]/g, "-");
  const safe = ctx.project.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60);
  const kept = join(
    ctx.failedLogDir,
    `${stamp}-${safe}-${hook}-${randomToken(ctx.random).slice(0, 6)}.log`,
  );
  try {
    await fsp.rename(ctx.logPath, kept);
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") await fsp.copyFile(ctx.logPath, kept);
    else await fsp.writeFile(kept, "");
  }
  return kept;
}

async function readFrom(path: string, offset: number): Promise<string> {
  try {
    const bytes = await fsp.readFile(path);
    return new TextDecoder().decode(bytes.subarray(offset));
  } catch {
    return "";
  }
}

/**
 * Calls `hook` with `kwargs` (JSON) and returns its value, or `missing` when the backend does not
 * have it.
 *
 * @throws {BuildError} `backend-unavailable`, `invalid-project` (backend not from backend-path),
 * `hook-unsupported`, `backend-failed` (with the tail, exit code and kept log),
 * `interpreter-missing`, `aborted`.
 */
export async function callHook(
  ctx: HookContext,
  hook: HookName,
  kwargs: Record<string, unknown>,
): Promise<HookResult> {
  const control = join(ctx.workDir, `hook-${hook}-${randomToken(ctx.random).slice(0, 6)}`);
  await fsp.mkdir(control, { recursive: true });
  await fsp.writeFile(
    join(control, "input.json"),
    JSON.stringify({ backend: ctx.backend, backend_path: ctx.backendPath, kwargs }),
  );
  const header = `==> ${hook} (${ctx.backend}) in ${ctx.sourceDir}\n`;
  await fsp.appendFile(ctx.logPath, header);
  const offset = (await fsp.stat(ctx.logPath)).size;
  ctx.reporter?.event({ kind: "hook-started", hook, project: ctx.project });
  const started = ctx.now();
  const out = await ctx.run(ctx.python, [ctx.runnerPath, hook, control], {
    cwd: ctx.sourceDir,
    // Unbuffered, so the log keeps the order in which the backend wrote to stdout and stderr.
    env: { ...ctx.processEnv, PYTHONUNBUFFERED: "1" },
    logFile: ctx.logPath,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  ctx.reporter?.event({
    kind: "hook-finished",
    hook,
    project: ctx.project,
    ms: ctx.now() - started,
  });
  const what = hookFailure(hook, ctx.project);
  if (out.kind === "not-found") {
    throw new BuildError("interpreter-missing", `Cannot run Python "${ctx.python}": not found`, {
      hook,
      project: ctx.project,
    });
  }
  if (out.kind === "failed-to-start") {
    throw new BuildError(
      "interpreter-missing",
      `Cannot run Python "${ctx.python}": ${out.message}`,
      {
        hook,
        project: ctx.project,
      },
    );
  }
  if (ctx.signal?.aborted) {
    throw new BuildError("aborted", `${what}: cancelled`, {
      hook,
      project: ctx.project,
      cause: ctx.signal.reason,
    });
  }
  let outcome: RunnerOutcome | undefined;
  try {
    outcome = JSON.parse(await fsp.readFile(join(control, "output.json"), "utf8")) as RunnerOutcome;
  } catch {
    outcome = undefined;
  }
  if (outcome?.status === "ok") return { kind: "ok", value: outcome.value };
  if (outcome?.status === "hook-missing") return { kind: "missing" };

  const output = await readFrom(ctx.logPath, offset);
  const logPath = await keepLog(ctx, hook);
  const exitCode = out.code ?? undefined;
  const details = {
    hook,
    project: ctx.project,
    logPath,
    ...(exitCode === undefined ? {} : { exitCode }),
  };
  if (outcome?.status === "backend-unavailable") {
    const hint = /^ModuleNotFoundError\b/.test(outcome.message ?? "")
      ? " (is it in [build-system] requires?)"
      : "";
    throw new BuildError(
      "backend-unavailable",
      `${what}: cannot import build backend "${ctx.backend}": ${outcome.message}${hint}; full log: ${logPath}`,
      details,
    );
  }
  if (outcome?.status === "backend-invalid") {
    throw new BuildError(
      "invalid-project",
      `${what}: build backend "${ctx.backend}" is not loaded from backend-path: ${outcome.message}`,
      details,
    );
  }
  if (outcome?.status === "unsupported") {
    throw new BuildError(
      "hook-unsupported",
      `${what}: build backend "${ctx.backend}" does not support ${hook}: ${outcome.message}`,
      details,
    );
  }
  const how = out.code === null
    ? `was killed by ${out.signal}`
    : outcome === undefined
    ? `exited with exit code ${out.code} without a result`
    : `failed with exit code ${out.code}`;
  const tail = lastLines(output, TAIL_LINES);
  const shown = tail.length === 0 || (tail.length === 1 && tail[0] === "")
    ? "  (no output)"
    : tail.map((l) => `  | ${l}`).join("\n");
  throw new BuildError(
    "backend-failed",
    `${what}: ${hook} of build backend "${ctx.backend}" ${how}.\n` +
      `Its output (last ${TAIL_LINES} lines):\n${shown}\n` +
      `Full log: ${logPath}`,
    details,
  );
}
