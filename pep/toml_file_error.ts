/**
 * The base class of the TOML readers' errors (`PyprojectError`, `PylockError`, `UvLockError`), so
 * callers can catch any of them with one `instanceof`.
 *
 * @module
 */

/** What a {@linkcode TomlFileError} is built from, besides its message. */
export interface TomlFileErrorOptions<Code extends string> {
  /** Machine-readable reason. */
  code: Code;
  /** The file label used in the message. */
  file: string;
  /** 1-based line, when known. */
  line?: number | undefined;
  /** 1-based column, when known. */
  column?: number | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The shared shape of PylockError, UvLockError and PyprojectError: a SyntaxError whose message
 * starts with the file label, with a `code` and, for TOML syntax errors, `line` and `column`.
 * Each subclass sets `name` and narrows `Code`.
 */
export abstract class TomlFileError<Code extends string> extends SyntaxError {
  /** Machine-readable reason. */
  readonly code: Code;
  /** The file label used in the message. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;

  /**
   * Create the error; the message is prefixed with the file label.
   *
   * @param message What failed and why.
   * @param options `code`, `file`, optional `line`, `column`, `cause`.
   */
  constructor(message: string, options: TomlFileErrorOptions<Code>) {
    super(
      `${options.file}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = options.code;
    this.file = options.file;
    this.line = options.line;
    this.column = options.column;
  }
}
