import assert from "node:assert/strict";
import fc from "fast-check";
import { CredentialStore, parseNetrc, redactText, redactUrl, splitCredentials } from "./auth.ts";

Deno.test("parseNetrc() reads machines, default, quoted values and skips macdef and comments", () => {
  const entries = parseNetrc(
    `# comment\nmachine a.example\n  login u1\n  password "p w"\nmacdef init\nmachine evil login x password y\n\n` +
      `machine b.example login u2 password p2 account acc\ndefault login anon password guest\n`,
  );
  assert.deepEqual(entries, [
    { machine: "a.example", login: "u1", password: "p w" },
    { machine: "b.example", login: "u2", password: "p2" },
    { machine: undefined, login: "anon", password: "guest" },
  ]);
});

Deno.test("CredentialStore sends .netrc credentials to their machine only, URL user-info first", () => {
  const store = new CredentialStore({ netrc: "machine h.example login u password p" });
  assert.equal(store.headersFor("https://h.example/x").authorization, `Basic ${btoa("u:p")}`);
  assert.deepEqual(store.headersFor("https://other.example/x"), {});
  assert.equal(store.headersFor("https://a:b@h.example/x").authorization, `Basic ${btoa("a:b")}`);
  assert.deepEqual(store.headersFor("file:///tmp/x"), {});
});

Deno.test("CredentialStore binds index credentials to the origin, not the host name", () => {
  const store = new CredentialStore();
  store.add("https://h.example/simple/", "u", "p");
  assert.ok(store.headersFor("https://h.example/packages/a.whl").authorization);
  assert.deepEqual(store.headersFor("http://h.example/simple/"), {}); // another scheme
  assert.deepEqual(store.headersFor("https://h.example:8443/simple/"), {}); // another port
});

Deno.test("redactUrl() never leaves a password in the text (law)", () => {
  const part = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
  fc.assert(
    fc.property(part, part, fc.constantFrom("https", "http", "git+https"), (user, pw, scheme) => {
      const secret = `SECRET${pw}`;
      const url = `${scheme}://${user}:${secret}@h.example/simple/`;
      const red = redactUrl(url);
      return !red.includes(secret) && red === `${scheme}://${user}:***@h.example/simple/`;
    }),
  );
  assert.equal(
    redactText("see https://tok@h/ and http://a:b@c/"),
    "see https://***@h/ and http://a:***@c/",
  );
  assert.equal(redactUrl("https://h.example/simple/"), "https://h.example/simple/");
});

Deno.test("splitCredentials() decodes user-info and returns the bare URL", () => {
  assert.deepEqual(splitCredentials("https://h/"), {
    url: "https://h/",
    username: undefined,
    password: undefined,
  });
  assert.deepEqual(splitCredentials("https://%5F_token__:a%2Fb@h/s/"), {
    url: "https://h/s/",
    username: "__token__",
    password: "a/b",
  });
});
