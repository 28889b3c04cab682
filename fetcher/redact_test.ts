import assert from "node:assert/strict";
import fc from "fast-check";
import { redactUrl } from "./redact.ts";

Deno.test("redactUrl() keeps the user and hides the password", () => {
  assert.equal(
    redactUrl("https://alice:s3cret@pypi.example/simple/x/"),
    "https://alice:***@pypi.example/simple/x/",
  );
});

Deno.test("redactUrl() hides a lone token user", () => {
  assert.equal(
    redactUrl("https://ghp_abc@host/a.whl#sha256=00"),
    "https://***@host/a.whl#sha256=00",
  );
});

Deno.test("redactUrl() leaves URLs without credentials unchanged", () => {
  fc.assert(
    fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
      fc.pre(!url.includes("@"));
      assert.equal(redactUrl(url), url);
    }),
  );
});

Deno.test("redactUrl() never lets a password through", () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z]{1,8}$/),
      fc.stringMatching(/^[A-Za-z0-9%!$]{6,20}$/),
      fc.stringMatching(/^[a-z]{1,10}(\.[a-z]{2,5})?$/),
      (user, password, host) => {
        const out = redactUrl(`https://${user}:${password}@${host}/p/x.whl`);
        assert.ok(!out.includes(`${password}@`), out);
        assert.ok(out.includes(`${user}:***@${host}`));
      },
    ),
  );
});
