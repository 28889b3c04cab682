// Windows' "Access is denied" on fresh files (uv#1491), as close as Linux gets: an LD_PRELOAD
// shim, built here with gcc, makes rename() into the cache fail with EACCES, the way an antivirus
// holding a just-written file does. Transient failures are retried and the run succeeds; a
// persistent one fails with a clear message; and the next run, once renames work again, publishes
// the finished downloads without transferring them again and leaves nothing in partial/.
// Linux with gcc only; skipped loudly elsewhere.
import assert from "node:assert/strict";
import { join } from "node:path";
import { common, LINUX_312, wheelhouse, withServer } from "./_e2e_helpers.ts";

const SHIM_C = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int failures;

/* Fails renames whose target contains $SHIM_MATCH, $SHIM_TIMES times (-1: always). */
static int should_fail(const char *to) {
  const char *match = getenv("SHIM_MATCH");
  if (match == NULL || to == NULL || strstr(to, match) == NULL) return 0;
  int limit = atoi(getenv("SHIM_TIMES") ? getenv("SHIM_TIMES") : "-1");
  if (limit >= 0 && atomic_fetch_add(&failures, 1) >= limit) return 0;
  errno = EACCES;
  return 1;
}

int rename(const char *from, const char *to) {
  static int (*real)(const char *, const char *);
  if (!real) real = dlsym(RTLD_NEXT, "rename");
  if (should_fail(to)) return -1;
  return real(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to) {
  static int (*real)(int, const char *, int, const char *);
  if (!real) real = dlsym(RTLD_NEXT, "renameat");
  if (should_fail(to)) return -1;
  return real(fd1, from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned int flags) {
  static int (*real)(int, const char *, int, const char *, unsigned int);
  if (!real) real = dlsym(RTLD_NEXT, "renameat2");
  if (should_fail(to)) return -1;
  return real(fd1, from, fd2, to, flags);
}
`;

async function buildShim(dir: string): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  const source = join(dir, "shim.c");
  const lib = join(dir, "shim.so");
  await Deno.writeTextFile(source, SHIM_C);
  try {
    const out = await new Deno.Command("gcc", {
      args: ["-shared", "-fPIC", "-O1", "-o", lib, source, "-ldl"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success ? lib : undefined;
  } catch {
    return undefined;
  }
}

async function namesIn(folder: string): Promise<string[]> {
  try {
    const out: string[] = [];
    for await (const e of Deno.readDir(folder)) out.push(e.name);
    return out.sort();
  } catch {
    return [];
  }
}

Deno.test("an antivirus-like rename refusal: retried when brief, clear when lasting, published next run without a transfer", () =>
  withServer(async (server, dir) => {
    const shim = await buildShim(dir);
    if (shim === undefined) {
      console.error("SKIPPED: rename shim test (needs Linux and gcc)");
      return;
    }
    const args = (dest: string) => [
      "download",
      ...common(server, dir),
      "-d",
      join(dir, dest),
      ...LINUX_312,
      "example-app[fast]",
    ];
    const files = () =>
      server.requests.filter((q) =>
        q.method === "GET" && q.path.startsWith("/files/") &&
        !q.path.endsWith(".metadata")
      ).length;
    // Brief: two refusals, then renames work; the run retries and succeeds.
    const brief = await wheelhouse(args("brief"), dir, {
      LD_PRELOAD: shim,
      SHIM_MATCH: "archives-v1",
      SHIM_TIMES: "2",
    }, 60_000);
    assert.equal(brief.code, 0, brief.stderr);
    // Lasting, on a new cache: the run fails with one clear message, no stack trace.
    await Deno.remove(join(dir, "cache"), { recursive: true });
    const before = files();
    const lasting = await wheelhouse(args("lasting"), dir, {
      LD_PRELOAD: shim,
      SHIM_MATCH: "archives-v1",
      SHIM_TIMES: "-1",
    }, 60_000);
    assert.equal(lasting.code, 1, lasting.stderr);
    assert.match(lasting.stderr, /^error: /);
    assert.doesNotMatch(lasting.stderr, /^\s+at /m);
    const transferred = files() - before;
    assert.ok(transferred > 0);
    // Renames work again: the finished downloads are published, none is fetched again.
    const next = before + transferred;
    const again = await wheelhouse(args("again"), dir, {}, 60_000);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(files() - next, 0, "no file transferred again");
    assert.match(again.stderr, /Downloaded 0 files/);
    const left = (await namesIn(join(dir, "cache", "partial"))).filter((n) => !n.endsWith(".lock"));
    assert.deepEqual(left, [], "nothing finished is left in partial/");
  }));
