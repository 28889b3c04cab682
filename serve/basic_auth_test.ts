import assert from "node:assert/strict";
import {
  BasicAuth,
  hashPassword,
  InvalidAuthFileError,
  parseAuthFile,
  verifyPassword,
} from "./basic_auth.ts";

// Computed with Python's hashlib (scrypt and pbkdf2_hmac), so files made without wheelhouse work.
const PY_SCRYPT =
  "$scrypt$N=1024,r=8,p=1$cGVwcGVycGVwcGVy$djy3xJdPmFP8nhUMgvjfsFYTvAyJpgtgiWHIMwz6HmA=";
const PY_PBKDF2 = "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ=$A+Pkljr7A4W/zbzUWSStAfjTCX2GWVTHwva2WigH9ow=";

function basic(user: string, password: string): string {
  return `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)))}`;
}

Deno.test("verifyPassword() accepts scrypt and PBKDF2 hashes that Python computed", async () => {
  assert.equal(await verifyPassword("pässwörd", PY_SCRYPT), true);
  assert.equal(await verifyPassword("passwörd", PY_SCRYPT), false);
  assert.equal(await verifyPassword("pw", PY_PBKDF2), true);
  assert.equal(await verifyPassword("pw ", PY_PBKDF2), false);
  assert.equal(await verifyPassword("pw", "plain-text"), false);
});

Deno.test("hashPassword() salts: the same password hashes differently each time", async () => {
  const a = await hashPassword("pw", { N: 1024 });
  const b = await hashPassword("pw", { N: 1024 });
  assert.notEqual(a, b);
  assert.equal(await verifyPassword("pw", a), true);
  assert.equal(await verifyPassword("pw", b), true);
  await assert.rejects(hashPassword("pw", { N: 1000 }), RangeError);
});

Deno.test("parseAuthFile() skips comments and blank lines and names the line of each problem", () => {
  const users = parseAuthFile(`\uFEFF# users\r\n\r\n  alice:${PY_SCRYPT}\r\nbob:${PY_PBKDF2}\n`);
  assert.deepEqual(users.map((u) => u.user), ["alice", "bob"]);
  const cases: [string, string, number][] = [
    [`alice:${PY_SCRYPT}\nbob\n`, "syntax", 2],
    [`alice:${PY_SCRYPT}\n:${PY_SCRYPT}\n`, "syntax", 2],
    ["alice:secret\n", "bad-hash", 1],
    ["alice:$md5$x$c2FsdHNhbHQ=$A+Pkljr7A4W/zbzUWSStAfjTCX2GWVTHwva2WigH9ow=\n", "bad-hash", 1],
    [`alice:${PY_SCRYPT.replace("N=1024", "N=1000")}\n`, "bad-hash", 1],
    [`alice:${PY_PBKDF2.replace("i=1000", "i=10")}\n`, "bad-hash", 1],
    [`alice:${PY_SCRYPT}\n# again\nalice:${PY_PBKDF2}\n`, "duplicate-user", 3],
    ["# nobody\n\n", "no-users", 0],
  ];
  for (const [text, code, line] of cases) {
    assert.throws(
      () => parseAuthFile(text),
      (e) => e instanceof InvalidAuthFileError && e.code === code && e.line === line,
      text,
    );
  }
});

Deno.test("BasicAuth checks user and password, and refuses malformed headers and unknown users", async () => {
  const auth = new BasicAuth(parseAuthFile(`alice:${PY_SCRYPT}\nbob:${PY_PBKDF2}\n`));
  assert.equal(auth.realm, "wheelhouse");
  assert.equal(await auth.check(basic("alice", "pässwörd")), true);
  assert.equal(await auth.check(basic("bob", "pw")), true);
  assert.equal(await auth.check(basic("alice", "pw")), false);
  assert.equal(await auth.check(basic("carol", "pw")), false);
  assert.equal(await auth.check(basic("alice:pässwörd", "")), false);
  for (
    const h of [undefined, "", "Bearer abc", "Basic", "Basic !!!!", `Basic ${btoa("nocolon")}`]
  ) {
    assert.equal(await auth.check(h), false, String(h));
  }
  // Case-insensitive scheme (RFC 9110 §11.1).
  assert.equal(await auth.check(basic("bob", "pw").replace("Basic", "basic")), true);
});

Deno.test("BasicAuth remembers good credentials, so the hundredth request costs no slow hash", async () => {
  const auth = new BasicAuth([{ user: "u", hash: await hashPassword("pw") }], {
    maxConcurrentHashes: 1,
  });
  const first = performance.now();
  assert.equal(await auth.check(basic("u", "pw")), true);
  const slow = performance.now() - first;
  const again = performance.now();
  const results = await Promise.all(
    Array.from({ length: 100 }, () => auth.check(basic("u", "pw"))),
  );
  const fast = performance.now() - again;
  assert.ok(results.every((r) => r));
  assert.ok(fast < slow, `100 remembered checks took ${fast} ms, one scrypt ${slow} ms`);
  // Wrong passwords are never remembered as good.
  assert.equal(await auth.check(basic("u", "pW")), false);
});
