import assert from "node:assert/strict";
import fc from "fast-check";
import { route } from "./_route.ts";

Deno.test("route() reads the simple API's paths", () => {
  assert.deepEqual(route("/simple/"), { kind: "projects", format: undefined });
  assert.deepEqual(route("/simple/demo-pkg/"), {
    kind: "project",
    project: "demo-pkg",
    format: undefined,
  });
  assert.deepEqual(
    route(`/simple/a/?format=${encodeURIComponent("application/vnd.pypi.simple.v1+json")}`),
    {
      kind: "project",
      project: "a",
      format: "application/vnd.pypi.simple.v1+json",
    },
  );
  assert.deepEqual(route("/files/a-1.0%2Blocal-py3-none-any.whl"), {
    kind: "file",
    filename: "a-1.0+local-py3-none-any.whl",
  });
  assert.deepEqual(route("/files/a-1.0-py3-none-any.whl.metadata"), {
    kind: "metadata",
    filename: "a-1.0-py3-none-any.whl",
  });
});

Deno.test("route() redirects names that are not normalised, and the paths without a slash", () => {
  assert.deepEqual(route("/simple/Demo_Pkg/"), { kind: "redirect", location: "/simple/demo-pkg/" });
  assert.deepEqual(route("/simple/Demo.Pkg"), { kind: "redirect", location: "/simple/demo-pkg/" });
  assert.deepEqual(route("/simple/demo?x=1"), { kind: "redirect", location: "/simple/demo/?x=1" });
  assert.deepEqual(route("/simple"), { kind: "redirect", location: "/simple/" });
  assert.deepEqual(route("/"), { kind: "redirect", location: "/simple/" });
});

Deno.test("route() never gives a file name that could leave the folder", () => {
  const hostile = [
    "/files/../../etc/passwd",
    "/files/..%2f..%2fetc%2fpasswd",
    "/files/%2e%2e",
    "/files/%2E%2E/x",
    "/files/..",
    "/files/.",
    "/files/a%5cb",
    "/files/a\\b",
    "/files/a%00b",
    "/files/a\0b",
    "/files//etc/passwd",
    "/files/%2fetc%2fpasswd",
    "/simple/../files/x",
    "/simple/a/../../x",
  ];
  for (const target of hostile) assert.equal(route(target).kind, "not-found", target);
  assert.equal(route("/files/%zz").kind, "bad-request");
  assert.equal(route("http://evil/files/x").kind, "bad-request");
  assert.equal(route("*").kind, "bad-request");
  // Decoded once: a double-encoded name is a name with a % in it, which no file has.
  assert.deepEqual(route("/files/%252e%252e"), { kind: "file", filename: "%2e%2e" });
});

Deno.test("route() file names are single plain segments for any target (law)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), (tail) => {
      const r = route(`/files/${tail}`);
      if (r.kind === "file" || r.kind === "metadata") {
        assert.ok(!/[/\\\0]/.test(r.filename) && r.filename !== ".." && r.filename !== ".");
      }
    }),
  );
});
