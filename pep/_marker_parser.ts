// Tokenizer and recursive-descent parser for PEP 508 environment markers, shared with the
// requirement parser. The grammar and the token rules follow packaging's hand-written parser
// (`packaging/_parser.py`, `_tokenizer.py`) so that the same strings are accepted; the error
// messages are our own and always carry the 0-based column of the problem.

/** A failure inside the parser; the public modules turn it into their own error class. */
export class MarkerParseFailure extends Error {
  override name = "MarkerParseFailure";
  readonly column: number;
  constructor(message: string, column: number) {
    super(message);
    this.column = column;
  }
}

/** Comparison operators, with `not in` spelled with one space as packaging prints it. */
export type MarkerOp = "===" | "==" | "~=" | "!=" | "<=" | ">=" | "<" | ">" | "in" | "not in";

/** One side of a comparison: a marker variable (canonical name) or a quoted string's value. */
export type MarkerOperand =
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "string"; readonly value: string };

/** `left op right`. */
export interface MarkerComparison {
  readonly kind: "compare";
  readonly left: MarkerOperand;
  readonly op: MarkerOp;
  readonly right: MarkerOperand;
}

/**
 * A sequence `item (and|or item)*` exactly as written, like packaging's `MarkerList`: a
 * parenthesised sub-expression is a nested group, so printing keeps the user's parentheses.
 * `and` binds tighter than `or` when evaluating.
 */
export interface MarkerGroup {
  readonly kind: "group";
  readonly items: readonly MarkerNode[];
  /** `ops[i]` joins `items[i]` and `items[i + 1]`. */
  readonly ops: readonly ("and" | "or")[];
}

/** A node of the marker tree. */
export type MarkerNode = MarkerComparison | MarkerGroup;

// Python's `\b` on str patterns is Unicode-aware; JavaScript's is ASCII-only, so spell it out.
const W = String.raw`[\p{L}\p{N}_]`;
const B = String.raw`(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;

const PRE = String.raw`(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?`;
const POST = String.raw`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?`;
const DEV = String.raw`(?:[-_.]?dev[-_.]?[0-9]*)?`;
const LOCAL = String.raw`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?`;
const HEAD = String.raw`v?(?:[0-9]+!)?[0-9]+`;

/** packaging's `Specifier._specifier_regex_str`: one `op version` clause. */
export const SPECIFIER_PATTERN: string = [
  String.raw`===\s*[^\s;)]*`,
  String.raw`(?:==|!=)\s*${HEAD}(?:\.[0-9]+)*(?:\.\*|${PRE}${POST}${DEV}${LOCAL})?`,
  String.raw`~=\s*${HEAD}(?:\.[0-9]+)+${PRE}${POST}${DEV}`,
  String.raw`(?:<=|>=|<|>)\s*${HEAD}(?:\.[0-9]+)*${PRE}${POST}${DEV}`,
].map((alternative) => `(?:${alternative})`).join("|");

function rules(B: string, u: "u" | "") {
  return {
    LEFT_PARENTHESIS: /\(/y,
    RIGHT_PARENTHESIS: /\)/y,
    LEFT_BRACKET: /\[/y,
    RIGHT_BRACKET: /\]/y,
    SEMICOLON: /;/y,
    COMMA: /,/y,
    QUOTED_STRING: /'[^']*'|"[^"]*"/y,
    OP: /===|==|~=|!=|<=|>=|<|>/y,
    BOOLOP: new RegExp(`${B}(?:or|and)${B}`, `${u}y`),
    IN: new RegExp(`${B}in${B}`, `${u}y`),
    NOT: new RegExp(`${B}not${B}`, `${u}y`),
    VARIABLE: new RegExp(
      `${B}(?:python_version|python_full_version|os[._]name|sys[._]platform|platform_(?:release|system)` +
        `|platform[._](?:version|machine|python_implementation)|python_implementation` +
        `|implementation_(?:name|version)|extras?|dependency_groups)${B}`,
      `${u}y`,
    ),
    SPECIFIER: new RegExp(SPECIFIER_PATTERN, "iy"),
    AT: /@/y,
    URL: /[^ \t]+/y,
    IDENTIFIER: new RegExp(`${B}[a-zA-Z0-9][a-zA-Z0-9._-]*${B}`, `${u}y`),
    VERSION_PREFIX_TRAIL: /\.\*/y,
    VERSION_LOCAL_LABEL_TRAIL: /\+[a-z0-9]+(?:[-_.][a-z0-9]+)*/y,
    WS: /[ \t]+/y,
  } as const;
}

// Python's `\b` is Unicode-aware; the emulation above costs a lot per token. On ASCII-only input
// (nearly every real marker) JavaScript's own `\b` gives the same answers, much faster. The
// Unicode rules are made when first needed: compiling their `\p{L}` classes took 7 ms of every
// start-up.
const ASCII_RULES = rules(String.raw`\b`, "");
let unicodeRules: Rules | undefined;
type Rules = ReturnType<typeof rules>;

/** Names of the token rules. */
export type TokenRule = keyof Rules | "END";

/** A cursor over the source that matches one token rule at a time (context-sensitive lexing). */
export class Tokenizer {
  readonly source: string;
  position = 0;
  readonly #rules: Rules;

  constructor(source: string) {
    this.source = source;
    // deno-lint-ignore no-control-regex
    this.#rules = /^[\x00-\x7f]*$/.test(source) ? ASCII_RULES : (unicodeRules ??= rules(B, "u"));
  }

  /** The text the rule matches at the cursor, without moving. */
  peek(rule: TokenRule): string | undefined {
    if (rule === "END") {
      // Python's `$` also matches just before one trailing newline; packaging inherits that.
      const rest = this.source.length - this.position;
      return rest === 0 || (rest === 1 && this.source[this.position] === "\n") ? "" : undefined;
    }
    const regex = this.#rules[rule];
    regex.lastIndex = this.position;
    const match = regex.exec(this.source);
    return match === null ? undefined : match[0];
  }

  /** Consume the token if the rule matches at the cursor and return its text. */
  take(rule: TokenRule): string | undefined {
    const text = this.peek(rule);
    if (text !== undefined) this.position += text.length;
    return text;
  }

  /** Consume the token or fail with "Expected <expected>". */
  expect(rule: TokenRule, expected: string): string {
    const text = this.take(rule);
    if (text === undefined) this.fail(`Expected ${expected}`);
    return text;
  }

  /** Throw a parse failure at the cursor (or at `column`). */
  fail(message: string, column: number = this.position): never {
    throw new MarkerParseFailure(message, column);
  }

  /** What is at the cursor, for messages: `'foo'` or `end of input`. */
  describeHere(): string {
    if (this.peek("END") !== undefined) return "the end of the input";
    const rest = this.source.slice(this.position);
    const word = /^[^\s]{1,20}/.exec(rest)?.[0] ?? rest.slice(0, 1);
    return JSON.stringify(word);
  }
}

/** Parse a whole marker expression. */
export function parseMarkerSource(source: string): MarkerGroup {
  const tokenizer = new Tokenizer(source);
  const group = parseMarkerExpression(tokenizer);
  if (tokenizer.peek("END") === undefined) {
    tokenizer.fail(
      `Expected 'and', 'or' or the end of the marker, found ${tokenizer.describeHere()}`,
    );
  }
  return group;
}

/** `marker = marker_atom (BOOLOP marker_atom)*` */
export function parseMarkerExpression(tokenizer: Tokenizer): MarkerGroup {
  const items: MarkerNode[] = [parseMarkerAtom(tokenizer)];
  const ops: ("and" | "or")[] = [];
  for (let op = tokenizer.take("BOOLOP"); op !== undefined; op = tokenizer.take("BOOLOP")) {
    ops.push(op === "and" ? "and" : "or");
    items.push(parseMarkerAtom(tokenizer));
  }
  return { kind: "group", items, ops };
}

/** `marker_atom = WS? '(' WS? marker WS? ')' WS? | WS? marker_item WS?` */
function parseMarkerAtom(tokenizer: Tokenizer): MarkerNode {
  tokenizer.take("WS");
  let node: MarkerNode;
  const open = tokenizer.position;
  if (tokenizer.take("LEFT_PARENTHESIS") !== undefined) {
    tokenizer.take("WS");
    node = parseMarkerExpression(tokenizer);
    tokenizer.take("WS");
    if (tokenizer.take("RIGHT_PARENTHESIS") === undefined) {
      tokenizer.fail(
        `Expected ')' to close the '(' at column ${open}, found ${tokenizer.describeHere()}`,
      );
    }
  } else {
    node = parseMarkerItem(tokenizer);
  }
  tokenizer.take("WS");
  return node;
}

/** `marker_item = WS? marker_var WS? marker_op WS? marker_var WS?` */
function parseMarkerItem(tokenizer: Tokenizer): MarkerComparison {
  tokenizer.take("WS");
  const left = parseMarkerVar(tokenizer);
  tokenizer.take("WS");
  const op = parseMarkerOp(tokenizer);
  tokenizer.take("WS");
  const right = parseMarkerVar(tokenizer);
  tokenizer.take("WS");
  return normalizeExtraComparison({ kind: "compare", left, op, right });
}

/** `marker_var = VARIABLE | QUOTED_STRING` */
function parseMarkerVar(tokenizer: Tokenizer): MarkerOperand {
  const variable = tokenizer.take("VARIABLE");
  if (variable !== undefined) return { kind: "variable", name: canonicalVariable(variable) };
  const start = tokenizer.position;
  const quoted = tokenizer.take("QUOTED_STRING");
  if (quoted !== undefined) return { kind: "string", value: unquotePython(quoted, start) };
  return tokenizer.fail(
    `Expected a marker variable (such as python_version) or a quoted string, found ${tokenizer.describeHere()}`,
  );
}

/** `marker_op = IN | NOT WS IN | OP` */
function parseMarkerOp(tokenizer: Tokenizer): MarkerOp {
  if (tokenizer.take("IN") !== undefined) return "in";
  if (tokenizer.take("NOT") !== undefined) {
    tokenizer.expect("WS", "whitespace after 'not'");
    tokenizer.expect("IN", "'in' after 'not'");
    return "not in";
  }
  const op = tokenizer.take("OP");
  if (op !== undefined) return op as MarkerOp;
  return tokenizer.fail(
    `Expected a marker operator (one of ==, !=, <, <=, >, >=, ~=, ===, in, not in), found ${tokenizer.describeHere()}`,
  );
}

/** Dotted spellings and the `python_implementation` alias map to the PEP 508 names. */
function canonicalVariable(text: string): string {
  const name = text.replaceAll(".", "_");
  return name === "python_implementation" ? "platform_python_implementation" : name;
}

/**
 * PEP 685: extra names compare normalised, so the literal compared with `extra` is normalised at
 * parse time. packaging does this only for top-level comparisons (not inside parentheses), which
 * contradicts PEP 685; we normalise everywhere.
 */
function normalizeExtraComparison(comparison: MarkerComparison): MarkerComparison {
  const { left, right } = comparison;
  if (left.kind === "variable" && left.name === "extra" && right.kind === "string") {
    return { ...comparison, right: { kind: "string", value: normalizeExtraName(right.value) } };
  }
  if (right.kind === "variable" && right.name === "extra" && left.kind === "string") {
    return { ...comparison, left: { kind: "string", value: normalizeExtraName(left.value) } };
  }
  return comparison;
}

/** PEP 503 normalisation, as packaging's `canonicalize_name` (no validation). */
export function normalizeExtraName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/**
 * The value of a quoted string token. packaging runs `ast.literal_eval` on it, so Python's escape
 * sequences apply (`"\x41"` is `"A"`; an unknown escape such as `\d` keeps its backslash).
 */
function unquotePython(token: string, start: number): string {
  const body = token.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === "\n" || ch === "\r" || ch === "\0") {
      throw new MarkerParseFailure(
        `Expected a quoted string on one line without NUL characters`,
        start + 1 + i,
      );
    }
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const column = start + 1 + i;
    const next = body[i + 1];
    if (next === undefined) {
      // The backslash escapes the closing quote, so Python sees an unterminated string.
      throw new MarkerParseFailure(
        `Expected a closing quote: the backslash at column ${column} escapes it`,
        column,
      );
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i += 1;
    } else if (next === "\n") {
      i += 1; // a backslash-newline is a line continuation
    } else if (/[0-7]/.test(next)) {
      const digits = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
      out += String.fromCodePoint(parseInt(digits, 8));
      i += digits.length;
    } else if (next === "x" || next === "u" || next === "U") {
      const width = next === "x" ? 2 : next === "u" ? 4 : 8;
      const digits = body.slice(i + 2, i + 2 + width);
      const codePoint = parseInt(digits, 16);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(digits) || codePoint > 0x10ffff) {
        throw new MarkerParseFailure(
          `Expected ${width} hex digits after '\\${next}' in the quoted string`,
          column,
        );
      }
      out += String.fromCodePoint(codePoint);
      i += 1 + width;
    } else if (next === "N") {
      throw new MarkerParseFailure(
        `Expected no named Unicode escape ('\\N{...}') in the quoted string: they are not supported`,
        column,
      );
    } else {
      out += "\\"; // Python keeps unknown escapes as written (with a warning)
    }
  }
  return out;
}

/**
 * A quoted string that `unquotePython` reads back as `value`. Plain values print as packaging
 * does (`"value"`); values with quotes, backslashes or control characters, which packaging prints
 * in a form it cannot read back, use single quotes or escapes.
 */
export function quotePython(value: string): string {
  // A backslash is harmless (printed as is, like packaging) unless it would start an escape.
  // deno-lint-ignore no-control-regex
  const awkward = /\\(?:[\\'"abfnrtvxuUN0-7\n]|$)|[\x00-\x1f\x7f]/;
  if (!value.includes('"') && !awkward.test(value)) return `"${value}"`;
  if (!value.includes("'") && !awkward.test(value)) return `'${value}'`;
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += "\\x22";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `"${out}"`;
}
