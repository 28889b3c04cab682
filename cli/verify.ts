// `wheelhouse verify [DIR] [--json]`: re-hash a wheelhouse folder against its manifest and side
// files. Thin: the checking is cache/verify_wheelhouse.ts; this prints it and picks the exit code.
import { resolve } from "node:path";
import { match } from "ts-pattern";
import {
  type VerifiedFile,
  verifyWheelhouse,
  type WheelhouseVerification,
} from "../cache/verify_wheelhouse.ts";
import type { CliIo } from "./io.ts";
import { InputError } from "./_errors.ts";
import { plural } from "./_format.ts";
import { parseVerifyArgs } from "./_verify_options.ts";

const HELP = `Usage: wheelhouse verify [DIR] [--json]

Re-hashes every file of a folder that "wheelhouse download" wrote (DIR, default ./wheelhouse)
against its manifest.json, and against the hashes in its requirements*.txt and pylock.toml.
Every byte is read: nothing is trusted from sizes or modification times.

Prints one line per damaged, missing or unknown file, then a summary.
Exit status: 0 everything is right, 1 something is wrong, 2 DIR is not a wheelhouse.

Options:
  --json      print a JSON report instead: {dir, ok, files: [{filename, status, expected?, actual?}]}
              (status is "ok", "damaged", "missing" or "unknown")
  -h, --help  show this help
`;

function line(file: Exclude<VerifiedFile, { status: "ok" }>): string {
  return match(file)
    .with({ status: "damaged" }, (f) => {
      const at = f.line === undefined ? f.source : `${f.source} line ${f.line}`;
      if (f.reason !== undefined) {
        return `damaged: ${f.filename}: ${f.reason}${f.source === f.filename ? "" : ` (${at})`}`;
      }
      const parts = [];
      if (f.expected !== undefined && f.expected !== f.actual) {
        parts.push(`expected sha256 ${f.expected} (${at}), actual ${f.actual ?? "unreadable"}`);
      }
      if (f.expectedSize !== undefined && f.expectedSize !== f.actualSize) {
        parts.push(
          `expected ${plural(f.expectedSize, "byte")} (${at}), actual ${
            f.actualSize ?? "unreadable"
          }`,
        );
      }
      return `damaged: ${f.filename}: ${parts.join("; ")}`;
    })
    .with(
      { status: "missing" },
      (f) =>
        f.line === undefined
          ? `missing: ${f.filename} (listed in ${f.source})`
          : `missing: ${f.filename} with sha256 ${f.expected} (${f.source} line ${f.line}): no file in the folder has that hash`,
    )
    .with({ status: "unknown" }, (f) => `unknown: ${f.filename}: not in manifest.json`)
    .exhaustive();
}

function summary(shown: string, files: readonly VerifiedFile[]): string {
  const count = (status: VerifiedFile["status"]): number =>
    files.filter((f) => f.status === status).length;
  const problems = files.length - count("ok");
  const kinds = (["damaged", "missing", "unknown"] as const).filter((s) => count(s) > 0).map((s) =>
    `${count(s)} ${s}`
  );
  return `${plural(problems, "problem")} in ${shown} (${kinds.join(", ")}); ${
    plural(count("ok"), "file")
  } verified`;
}

function unusable(
  shown: string,
  result: Exclude<WheelhouseVerification, { kind: "verified" }>,
): Error {
  return match(result)
    .with({ kind: "not-found" }, () => new InputError(`${shown} does not exist`))
    .with({ kind: "not-a-folder" }, () => new InputError(`${shown} is not a folder`))
    .with(
      { kind: "no-manifest" },
      () => new InputError(`${shown} has no manifest.json: not a folder wheelhouse wrote`),
    )
    // The manifest of a wheelhouse that cannot be read is damage, not a usage problem: exit 1.
    .with(
      { kind: "unreadable-manifest" },
      (r) => new Error(`${shown}/manifest.json cannot be read: ${r.reason}`),
    )
    .exhaustive();
}

/**
 * Runs `verify`.
 *
 * @param args The arguments after `verify`.
 * @param io The outside world: the folder is resolved against `io.cwd`, `io.signal` cancels.
 * @returns The exit code: 0 when everything is right, 1 when anything is wrong.
 * @throws {UsageError} for bad arguments; {InputError} when DIR is not a wheelhouse.
 * @example
 * ```ts
 * import { verify } from "./verify.ts";
 * import { memorySink } from "./io.ts";
 * const cwd = await Deno.makeTempDir();
 * await Deno.mkdir(`${cwd}/wheelhouse`);
 * await Deno.writeTextFile(`${cwd}/wheelhouse/manifest.json`, '{"version":1,"generator":"wheelhouse","files":[]}');
 * const stdout = memorySink();
 * const code = await verify([], {
 *   stdout, stderr: memorySink(), env: () => undefined, cwd, fetch: globalThis.fetch, now: Date.now,
 * });
 * if (code !== 0 || stdout.text() !== "0 files verified in wheelhouse\n") throw new Error(stdout.text());
 * await Deno.remove(cwd, { recursive: true });
 * ```
 */
export async function verify(args: string[], io: CliIo): Promise<number> {
  const options = parseVerifyArgs(args);
  if (options.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const dir = resolve(io.cwd, options.dir);
  const result = await verifyWheelhouse(dir, io.signal ? { signal: io.signal } : {});
  if (result.kind !== "verified") throw unusable(options.dir, result);
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ dir: result.dir, ok: result.ok, files: result.files }, null, 2)}\n`,
    );
    return result.ok ? 0 : 1;
  }
  if (result.ok) {
    io.stdout.write(`${plural(result.files.length, "file")} verified in ${options.dir}\n`);
    return 0;
  }
  for (const file of result.files) {
    if (file.status !== "ok") io.stdout.write(`${line(file)}\n`);
  }
  io.stdout.write(`${summary(options.dir, result.files)}\n`);
  return 1;
}
