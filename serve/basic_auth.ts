/**
 * HTTP Basic authentication against an auth file of `user:hash` lines, where the hash is a
 * salted, slow password hash node:crypto computes: scrypt (the default) or PBKDF2.
 *
 * ```
 * # comment lines and blank lines are ignored
 * alice:$scrypt$N=16384,r=8,p=1$<salt, base64>$<key, base64>
 * bob:$pbkdf2-sha256$i=600000$<salt, base64>$<key, base64>
 * ```
 *
 * Keys are compared in constant time; an unknown user costs the same hash as a known one. A
 * password that was right once is remembered (as an HMAC under a key of this process, never in
 * clear) so that an installer's hundred requests cost one slow hash, not a hundred.
 *
 * @module
 */

import { createHmac, pbkdf2, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import type { Authenticator } from "./types.ts";

/** Why an auth file cannot be used. */
export type InvalidAuthFileCode = "syntax" | "bad-hash" | "duplicate-user" | "no-users";

/**
 * An auth file that cannot be used; carries the 1-based line (0 for the whole file) and column.
 *
 * @example
 * ```ts
 * import { InvalidAuthFileError, parseAuthFile } from "./basic_auth.ts";
 * try {
 *   parseAuthFile("alice\n");
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!(e instanceof InvalidAuthFileError) || e.line !== 1) throw e;
 * }
 * ```
 */
export class InvalidAuthFileError extends SyntaxError {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override name = "InvalidAuthFileError";
  /** What is wrong. */
  readonly code: InvalidAuthFileCode;
  /** The 1-based line, 0 when the problem is the whole file. */
  readonly line: number;
  /** The 1-based column, 0 when the problem is the whole file. */
  readonly column: number;

  /**
   * Builds the error.
   *
   * @param code What is wrong.
   * @param message What is wrong, naming the line.
   * @param line The 1-based line, 0 for the whole file.
   * @param column The 1-based column, 0 for the whole file.
   */
  constructor(code: InvalidAuthFileCode, message: string, line: number, column: number) {
    super(message);
    this.code = code;
    this.line = line;
    this.column = column;
  }
}

/** One user of an auth file. */
export interface AuthUser {
  /** The user name (no `:`). */
  user: string;
  /** The password hash, `$scrypt$...` or `$pbkdf2-sha256$...`. */
  hash: string;
}

type ParsedHash =
  | { kind: "scrypt"; N: number; r: number; p: number; salt: Buffer; key: Buffer }
  | { kind: "pbkdf2"; digest: "sha256" | "sha512"; iterations: number; salt: Buffer; key: Buffer };

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function b64(text: string): Buffer | undefined {
  return B64.test(text) ? Buffer.from(text, "base64") : undefined;
}

function params(text: string): Map<string, number> | undefined {
  const out = new Map<string, number>();
  for (const part of text.split(",")) {
    const m = /^([a-zA-Z]+)=(\d{1,9})$/.exec(part);
    if (m === null) return undefined;
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Parses a hash; a string saying what is wrong when it is not one this module computes. */
function parseHash(hash: string): ParsedHash | string {
  const [empty, scheme, settings, saltText, keyText, ...rest] = hash.split("$");
  if (empty !== "" || scheme === undefined || rest.length > 0 || keyText === undefined) {
    return "expected $scheme$parameters$salt$key";
  }
  const p = params(settings ?? "");
  const salt = b64(saltText ?? "");
  const key = b64(keyText);
  if (p === undefined) return `bad parameters ${JSON.stringify(settings)}`;
  if (salt === undefined || salt.length < 8) return "the salt must be at least 8 bytes of base64";
  if (key === undefined || key.length < 16 || key.length > 64) {
    return "the key must be 16 to 64 bytes of base64";
  }
  if (scheme === "scrypt") {
    const N = p.get("N");
    const r = p.get("r");
    const par = p.get("p");
    if (N === undefined || r === undefined || par === undefined || p.size !== 3) {
      return "scrypt needs N=..,r=..,p=..";
    }
    // Bounds that keep one check under a few hundred MiB and a few seconds.
    if (N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0) {
      return "scrypt N must be a power of 2 from 1024 to 1048576";
    }
    if (r < 1 || r > 32 || par < 1 || par > 16 || 128 * N * r > 256 * 1024 * 1024) {
      return "scrypt r must be 1 to 32 and p 1 to 16, within 256 MiB";
    }
    return { kind: "scrypt", N, r, p: par, salt, key };
  }
  if (scheme === "pbkdf2-sha256" || scheme === "pbkdf2-sha512") {
    const iterations = p.get("i");
    if (iterations === undefined || p.size !== 1 || iterations < 1000 || iterations > 10_000_000) {
      return "pbkdf2 needs i= from 1000 to 10000000";
    }
    return {
      kind: "pbkdf2",
      digest: scheme === "pbkdf2-sha256" ? "sha256" : "sha512",
      iterations,
      salt,
      key,
    };
  }
  return `unknown scheme ${
    JSON.stringify(scheme)
  } (expected scrypt, pbkdf2-sha256 or pbkdf2-sha512)`;
}

function derive(password: string, h: ParsedHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (e: Error | null, key: Buffer): void => e ? reject(e) : resolve(key);
    if (h.kind === "scrypt") {
      scrypt(password, h.salt, h.key.length, {
        N: h.N,
        r: h.r,
        p: h.p,
        maxmem: 128 * h.N * h.r * h.p + 32 * 1024 * 1024,
      }, done);
    } else {
      pbkdf2(password, h.salt, h.iterations, h.key.length, h.digest, done);
    }
  });
}

/**
 * Parses an auth file: `user:hash` lines; blank lines and lines starting with `#` are ignored.
 *
 * @param text The file's text.
 * @returns The users, in file order.
 * @throws {InvalidAuthFileError} For a line without `user:hash`, a hash that is not `$scrypt$`
 * or `$pbkdf2-sha256$`/`$pbkdf2-sha512$` with sane parameters, a user named twice, or no users.
 * @example
 * ```ts
 * import { parseAuthFile } from "./basic_auth.ts";
 * const users = parseAuthFile(
 *   "# team\nalice:$scrypt$N=16384,r=8,p=1$c2FsdHNhbHQ=$5Ln2vEiOwfGjsU5vRJbTW3zXwoCNfqFNmjyfUvr2qUw=\n",
 * );
 * if (users.length !== 1 || users[0]?.user !== "alice") throw new Error();
 * ```
 */
export function parseAuthFile(text: string): AuthUser[] {
  const users: AuthUser[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of text.replace(/^\uFEFF/, "").split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    const at = raw.indexOf(line) + 1;
    if (colon <= 0) {
      throw new InvalidAuthFileError("syntax", `line ${i + 1}: expected user:hash`, i + 1, at);
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const parsed = parseHash(hash);
    if (typeof parsed === "string") {
      throw new InvalidAuthFileError(
        "bad-hash",
        `line ${i + 1}: the hash of user "${user}" is not usable: ${parsed}`,
        i + 1,
        at + colon + 1,
      );
    }
    if (seen.has(user)) {
      throw new InvalidAuthFileError(
        "duplicate-user",
        `line ${i + 1}: user "${user}" is named twice`,
        i + 1,
        at,
      );
    }
    seen.add(user);
    users.push({ user, hash });
  }
  if (users.length === 0) {
    throw new InvalidAuthFileError("no-users", "the file names no users (user:hash lines)", 0, 0);
  }
  return users;
}

/** Options of {@linkcode hashPassword}. */
export interface HashPasswordOptions {
  /** The salt; 16 random bytes by default. */
  salt?: Uint8Array;
  /** scrypt cost N (a power of 2); default 16384. */
  N?: number;
  /** scrypt block size r; default 8. */
  r?: number;
  /** scrypt parallelism p; default 1. */
  p?: number;
}

/**
 * Hashes a password for an auth file: scrypt, 32-byte key, base64 salt and key.
 *
 * @param password The password.
 * @param options Salt and scrypt parameters.
 * @returns `$scrypt$N=16384,r=8,p=1$<salt>$<key>`.
 * @throws {RangeError} For scrypt parameters outside what {@linkcode parseAuthFile} accepts.
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./basic_auth.ts";
 * const hash = await hashPassword("s3cret", { N: 1024 });
 * if (!hash.startsWith("$scrypt$N=1024,r=8,p=1$")) throw new Error(hash);
 * if (!(await verifyPassword("s3cret", hash)) || await verifyPassword("wrong", hash)) throw new Error();
 * ```
 */
export async function hashPassword(
  password: string,
  options: HashPasswordOptions = {},
): Promise<string> {
  const salt = Buffer.from(options.salt ?? randomBytes(16));
  const settings = `N=${options.N ?? 16384},r=${options.r ?? 8},p=${options.p ?? 1}`;
  const template = `$scrypt$${settings}$${salt.toString("base64")}$${"A".repeat(43)}=`;
  const parsed = parseHash(template);
  if (typeof parsed === "string") throw new RangeError(parsed);
  const key = await derive(password, parsed);
  return `$scrypt$${settings}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/**
 * Checks a password against a hash, comparing the keys in constant time.
 *
 * @param password The password.
 * @param hash A hash as {@linkcode hashPassword} writes (or a PBKDF2 one).
 * @returns True when the password is the one hashed; false also for a hash that is not usable.
 * @example
 * ```ts
 * import { verifyPassword } from "./basic_auth.ts";
 * // Python: hashlib.scrypt(b"pw", salt=b"saltsalt", n=16384, r=8, p=1, dklen=32), base64.
 * const hash = "$scrypt$N=16384,r=8,p=1$c2FsdHNhbHQ=$5Ln2vEiOwfGjsU5vRJbTW3zXwoCNfqFNmjyfUvr2qUw=";
 * if (!(await verifyPassword("pw", hash)) || await verifyPassword("pW", hash)) throw new Error();
 * ```
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (typeof parsed === "string") return false;
  const key = await derive(password, parsed);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** Options of {@linkcode BasicAuth}. */
export interface BasicAuthOptions {
  /** The realm named in `WWW-Authenticate`; default `wheelhouse`. */
  realm?: string;
  /** How many slow hashes may run at once; default 2. */
  maxConcurrentHashes?: number;
}

/** How many remembered good credentials are kept at most. */
const REMEMBERED = 1024;

/**
 * An {@linkcode Authenticator} for HTTP Basic credentials against auth-file users.
 *
 * @example
 * ```ts
 * import { BasicAuth, hashPassword } from "./basic_auth.ts";
 * const auth = new BasicAuth([{ user: "alice", hash: await hashPassword("pw", { N: 1024 }) }]);
 * const header = (u: string, p: string) => `Basic ${btoa(`${u}:${p}`)}`;
 * if (!(await auth.check(header("alice", "pw")))) throw new Error("refused");
 * if (await auth.check(header("alice", "nope")) || await auth.check(undefined)) throw new Error();
 * if (await auth.check(header("mallory", "pw"))) throw new Error("unknown user let in");
 * ```
 */
export class BasicAuth implements Authenticator {
  /** The realm named in `WWW-Authenticate`. */
  readonly realm: string;
  #users: Map<string, ParsedHash>;
  #dummy: ParsedHash;
  #secret = randomBytes(32);
  #remembered = new Set<string>();
  #running = 0;
  #waiting: (() => void)[] = [];
  #maxHashes: number;

  /**
   * Builds the authenticator.
   *
   * @param users The users and their hashes (from {@linkcode parseAuthFile}).
   * @param options Realm and the cap on concurrent hashing.
   * @throws {RangeError} For a hash that is not usable.
   */
  constructor(users: readonly AuthUser[], options: BasicAuthOptions = {}) {
    this.realm = options.realm ?? "wheelhouse";
    this.#maxHashes = Math.max(1, options.maxConcurrentHashes ?? 2);
    this.#users = new Map();
    for (const { user, hash } of users) {
      const parsed = parseHash(hash);
      if (typeof parsed === "string") throw new RangeError(`user "${user}": ${parsed}`);
      this.#users.set(user, parsed);
    }
    // An unknown user is checked against a hash as costly as the first user's, so the time an
    // answer takes does not tell which users exist.
    const first = this.#users.values().next().value;
    this.#dummy = first === undefined
      ? { kind: "scrypt", N: 16384, r: 8, p: 1, salt: randomBytes(16), key: randomBytes(32) }
      : { ...first, salt: randomBytes(first.salt.length), key: randomBytes(first.key.length) };
  }

  /**
   * Whether an `Authorization` header holds the right Basic credentials.
   *
   * @param authorization The header value.
   * @returns True for a known user with the right password.
   */
  async check(authorization: string | undefined): Promise<boolean> {
    const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? "");
    if (m === null) return false;
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const mark = createHmac("sha256", this.#secret).update(user).update("\0").update(password)
      .digest("base64");
    if (this.#remembered.has(mark)) return true;
    const known = this.#users.get(user);
    const hash = known ?? this.#dummy;
    await this.#acquire();
    let key: Buffer;
    try {
      key = await derive(password, hash);
    } finally {
      this.#release();
    }
    const ok = timingSafeEqual(key, hash.key) && known !== undefined;
    if (ok) {
      if (this.#remembered.size >= REMEMBERED) this.#remembered.clear();
      this.#remembered.add(mark);
    }
    return ok;
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#maxHashes) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#running--;
  }
}
