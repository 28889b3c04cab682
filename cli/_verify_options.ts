// Option parsing for `verify`, apart from the command so argv -> options is testable on its own;
// every usage error becomes one UsageError (exit 2).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./_options.ts";

/** Everything the `verify` command accepts, after parsing. */
export interface VerifyArgs {
  /** The folder to verify, as given (default `wheelhouse`). */
  dir: string;
  /** Print the JSON report instead of lines. */
  json: boolean;
  /** Print the command's help. */
  help: boolean;
}

const VERIFY_CONFIG = {
  options: {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
  strict: true,
} as const satisfies ParseArgsConfig;

/**
 * Parses the arguments of `verify` (after the command word).
 *
 * @param args The arguments after `verify`.
 * @returns The folder (default `wheelhouse`) and the flags.
 * @throws {UsageError} for unknown options or more than one folder.
 * @example
 * ```ts
 * import { parseVerifyArgs } from "./_verify_options.ts";
 * const parsed = parseVerifyArgs(["--json", "usb/wheelhouse"]);
 * if (parsed.dir !== "usb/wheelhouse" || !parsed.json) throw new Error();
 * if (parseVerifyArgs([]).dir !== "wheelhouse") throw new Error("the default folder");
 * ```
 */
export function parseVerifyArgs(args: string[]): VerifyArgs {
  let parsed;
  try {
    parsed = parseArgs({ ...VERIFY_CONFIG, args });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // node's messages are multi-line with hints aimed at JS developers; keep the first line.
    throw new UsageError(message.split("\n")[0]!.replace(/^TypeError.*?: /, ""));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError(
      `verify takes one folder, got ${positionals.length}: "${positionals.join('" "')}"`,
    );
  }
  return {
    dir: positionals[0] ?? "wheelhouse",
    json: values.json ?? false,
    help: values.help ?? false,
  };
}
