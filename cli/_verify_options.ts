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
 * @throws {UsageError} for unknown options or more than one folder.
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
