// Maps what went wrong to one clear paragraph and an exit code: 2 for bad usage or bad input
// (the user must change the command or the file), 1 for everything that failed while working.
import { UsageError } from "./_options.ts";
import { InvalidTargetError } from "../pep/tags.ts";
import { DownloadError, type DownloadErrorCode } from "../download/types.ts";
import { LockError } from "../lock/types.ts";

/** A problem with what the user gave the CLI itself (e.g. a --report folder): exit code 2. */
export class InputError extends Error {
  override name = "InputError";
}

/** The pipeline's failures that the user's input caused. */
const INPUT_CODES: ReadonlySet<DownloadErrorCode> = new Set([
  "invalid-input",
  "unusable-destination",
  "hash-check",
]);

/** The exit code for an error: 2 for usage and input problems, 1 for failures while working. */
export function exitCodeOf(e: unknown): number {
  if (
    e instanceof UsageError || e instanceof InputError || e instanceof InvalidTargetError ||
    e instanceof LockError
  ) {
    return 2;
  }
  if (e instanceof DownloadError) return INPUT_CODES.has(e.code) ? 2 : 1;
  // Every parser in pep/ throws SyntaxError subclasses: bad requirements, files, locks, markers.
  if (e instanceof SyntaxError) return 2;
  return 1;
}

/** One paragraph for the user: the message, and the causes that add something. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return printable(String(e));
  let text = e.message;
  // Parse errors already say where and what; their causes are the parser's internals.
  if (e instanceof SyntaxError) return printable(text);
  let cause: unknown = e.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    if (!text.includes(cause.message)) text += `\n  caused by: ${cause.message}`;
    cause = cause.cause;
  }
  return printable(text);
}

/**
 * Text safe to print on a terminal: control bytes from a bad input file (an escape sequence, a
 * NUL, a carriage return that would overwrite the line) are shown as `\xNN`, never sent raw.
 * Newlines and tabs stay.
 *
 * @param text Any text.
 * @returns The text with other control characters escaped.
 */
export function printable(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
