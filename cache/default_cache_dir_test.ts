import assert from "node:assert/strict";
import { CACHE_DIR_ENV, defaultCacheDir } from "./default_cache_dir.ts";
import { CacheError } from "./types.ts";

function env(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => vars[name];
}

Deno.test("defaultCacheDir() follows XDG_CACHE_HOME on Linux and ignores a relative one", () => {
  assert.equal(
    defaultCacheDir({ env: env({ HOME: "/home/a", XDG_CACHE_HOME: "/xdg" }), platform: "linux" }),
    "/xdg/wheelhouse",
  );
  assert.equal(
    defaultCacheDir({ env: env({ HOME: "/home/a", XDG_CACHE_HOME: "rel" }), platform: "linux" }),
    "/home/a/.cache/wheelhouse",
  );
  assert.equal(
    defaultCacheDir({ env: env({}), platform: "freebsd", home: "/u" }),
    "/u/.cache/wheelhouse",
  );
});

Deno.test("defaultCacheDir() uses ~/Library/Caches on macOS and LOCALAPPDATA on Windows", () => {
  assert.equal(
    defaultCacheDir({ env: env({ HOME: "/Users/b", XDG_CACHE_HOME: "/x" }), platform: "darwin" }),
    "/Users/b/Library/Caches/wheelhouse",
  );
  assert.equal(
    defaultCacheDir({
      env: env({ LOCALAPPDATA: "C:\\Users\\c\\AppData\\Local" }),
      platform: "windows",
    }),
    "C:\\Users\\c\\AppData\\Local\\wheelhouse\\cache",
  );
  assert.equal(
    defaultCacheDir({ env: env({ USERPROFILE: "C:\\Users\\d" }), platform: "windows" }),
    "C:\\Users\\d\\AppData\\Local\\wheelhouse\\cache",
  );
});

Deno.test("defaultCacheDir() lets --cache-dir win over the variable, and the variable over the OS", () => {
  const vars = env({ HOME: "/h", [CACHE_DIR_ENV]: "/from/env" });
  assert.equal(defaultCacheDir({ env: vars, platform: "linux" }), "/from/env");
  assert.equal(defaultCacheDir({ env: vars, platform: "linux", cacheDir: "/flag" }), "/flag");
});

Deno.test("defaultCacheDir() explains what to set when there is no home", () => {
  assert.throws(
    () => defaultCacheDir({ env: env({}), platform: "linux" }),
    (e: unknown) => e instanceof CacheError && /--cache-dir/.test(e.message),
  );
});
