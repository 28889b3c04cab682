// End-to-end tests of `wheelhouse download`: the CLI as a subprocess against the test index server
// serving the example index's real archives, with real pip as the consumer of the output.
import assert from "node:assert/strict";
import { join } from "node:path";
import { havePip, runPython } from "./_python.ts";
import {
  archives,
  common,
  download,
  EXAMPLES,
  pipInstallOfflineArgs,
  wheelhouse,
  withServer,
} from "./_e2e_helpers.ts";
import { sha256Hex } from "./wheel_factory.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();
const python = (args: string[], cwd: string) => runPython(args, cwd);
const HAVE_PIP = await havePip("pip end-to-end checks");

/** One `--python-version` per Python, then one `--python-platform` per platform. */
function targetArgs(pythons: string[], platforms: string[] = []): string[] {
  return [
    ...pythons.flatMap((v) => ["--python-version", v]),
    ...platforms.flatMap((p) => ["--python-platform", p]),
  ];
}

Deno.test({
  name: "download for the host yields the same files as pip download from the same index",
  ignore: !HAVE_PIP,
  fn: () =>
    withServer(async (server, dir) => {
      const ours = await download(server, dir, [
        "-d",
        "ours",
        "example-app[fast]",
        ...targetArgs(["3.11"]),
      ]);
      assert.equal(ours.code, 0, ours.stderr);
      const pip = await python([
        "-m",
        "pip",
        "download",
        "--no-cache-dir",
        "--index-url",
        server.indexUrl,
        "-d",
        "pip",
        "example-app[fast]",
      ], dir);
      assert.equal(pip?.code, 0, pip?.stderr);
      assert.deepEqual(await archives(join(dir, "ours")), await archives(join(dir, "pip")));
    }),
});

Deno.test({
  name: "pip installs offline from the wheelhouse and its requirements.txt",
  ignore: !HAVE_PIP,
  fn: () =>
    withServer(async (server, dir) => {
      const run = await download(server, dir, ["-d", "wh", "example-app", "example-legacy==0.9"]);
      assert.equal(run.code, 0, run.stderr);
      const req = await Deno.readTextFile(join(dir, "wh", "requirements.txt"));
      assert.match(req, /example-app==1\.1\.0 \\\n {4}--hash=sha256:[0-9a-f]{64}/);
      await server.close(); // the network is gone: only the folder remains
      const install = await python(
        pipInstallOfflineArgs("wh", "site", [
          "--no-build-isolation",
          "--only-binary",
          ":all:",
          "example-app",
        ]),
        dir,
      );
      assert.equal(install?.code, 0, install?.stderr);
      // The hash-pinned requirements (without the sdist, which would need a build backend).
      const pinned = req.split(/\n(?=\S)/).filter((b) => !b.startsWith("example-legacy")).join(
        "\n",
      );
      await Deno.writeTextFile(join(dir, "pinned.txt"), pinned);
      const hashed = await python(
        pipInstallOfflineArgs("wh", "site2", ["--require-hashes", "-r", "pinned.txt"]),
        dir,
      );
      assert.equal(hashed?.code, 0, hashed?.stderr);
      const installed = [...Deno.readDirSync(join(dir, "site2"))].map((e) => e.name);
      assert.ok(
        installed.some((n) => n.startsWith("example_http-2.1.0.dist-info")),
        installed.join(),
      );
    }),
});

Deno.test("one run for two Pythons and three platforms yields exactly each target's files", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, [
      "-d",
      "wh",
      "example-app[fast]",
      ...targetArgs(["3.11", "3.13"], [
        "x86_64-manylinux_2_28",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
      ]),
      "--report",
      "report.json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const files = await archives(join(dir, "wh"));
    const speedups = files.filter((f) => f.startsWith("example_speedups"));
    assert.deepEqual(speedups, [
      "example_speedups-0.3.1-cp311-cp311-macosx_11_0_arm64.whl",
      "example_speedups-0.3.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
      "example_speedups-0.3.1-cp311-cp311-win_amd64.whl",
      "example_speedups-0.3.1-cp313-cp313-macosx_11_0_arm64.whl",
      "example_speedups-0.3.1-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
      "example_speedups-0.3.1-cp313-cp313-win_amd64.whl",
    ]);
    // No sdists (every target has a wheel), and the Windows-only dependency only for Windows.
    assert.ok(!files.some((f) => f.endsWith(".tar.gz")), files.join());
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "wh", "manifest.json")));
    const color = manifest.files.find((f: { filename: string }) =>
      f.filename.startsWith("example_color")
    );
    assert.deepEqual(color.targets, [
      "cp311-x86_64-pc-windows-msvc",
      "cp313-x86_64-pc-windows-msvc",
    ]);
    const app = manifest.files.find((f: { filename: string }) =>
      f.filename.startsWith("example_app")
    );
    assert.equal(app.targets.length, 6);
    // pip's installation report, one per target.
    const reports = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
    assert.equal(reports.length, 6);
    for (const report of reports) {
      assert.equal(report.version, "1");
      const http = report.install.find((i: { metadata: { name: string } }) =>
        i.metadata.name === "example-http"
      );
      assert.equal(http.metadata.version, "2.1.0");
      assert.match(http.download_info.archive_info.hashes.sha256, /^[0-9a-f]{64}$/);
      assert.ok(http.download_info.url.startsWith(server.url));
    }
  }));

Deno.test("an offline run succeeds from the cache and, with an empty cache, names what is missing", () =>
  withServer(async (server, dir) => {
    const first = await download(server, dir, ["-d", "a", "example-app"]);
    assert.equal(first.code, 0, first.stderr);
    await server.close();
    const offline = await download(server, dir, ["--offline", "-d", "b", "example-app"]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual(await archives(join(dir, "b")), await archives(join(dir, "a")));
    await Deno.remove(join(dir, "cache"), { recursive: true });
    const miss = await download(server, dir, ["--offline", "-d", "c", "example-app"]);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /example-app/);
    assert.match(miss.stderr, /offline/i);
    assert.ok(!miss.stderr.includes("    at "), "no stack trace");
  }));

Deno.test("dry-run prints the plan and writes nothing into the destination", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, ["--dry-run", "-d", "wh", "example-app"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Would download 4 of 4 files/);
    assert.match(run.stdout, /example_http-2\.1\.0-py3-none-any\.whl/);
    await assert.rejects(() => Deno.stat(join(dir, "wh")), Deno.errors.NotFound);
  }));

Deno.test("a re-run keeps good files, replaces a corrupted one and prints nothing with -q", () =>
  withServer(async (server, dir) => {
    assert.equal((await download(server, dir, ["-d", "wh", "example-http"])).code, 0);
    const victim = join(dir, "wh", "example_idna-3.7-py3-none-any.whl");
    await Deno.writeTextFile(victim, "corrupt");
    const again = await download(server, dir, ["-q", "-d", "wh", "example-http"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, "");
    assert.equal(again.stdout, "");
    assert.ok((await Deno.stat(victim)).size > 100, "the corrupt file was replaced");
  }));

Deno.test("bad usage and bad input exit with 2 and one clear line, never a stack trace", () =>
  withServer(async (server, dir) => {
    const cases: string[][] = [
      ["download", "--bogus"],
      ["download", ...common(server, dir), "example-app>="],
      ["download", ...common(server, dir), "-r", "missing.txt"],
      ["download", ...common(server, dir), "--python-platform", "amiga", "example-app"],
      ["download", ...common(server, dir)],
      ["frobnicate"],
    ];
    for (const args of cases) {
      const run = await wheelhouse(args, dir);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^error: /, args.join(" "));
      assert.ok(!run.stderr.includes("    at "), `${args.join(" ")}: ${run.stderr}`);
    }
  }));

Deno.test("an unknown project fails with 1 and says which index was asked", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, ["-d", "wh", "no-such-project"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no-such-project/);
    assert.ok(run.stderr.includes(server.indexUrl), run.stderr);
  }));

Deno.test("requirements come from a pyproject with extras and dependency groups", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, [
      "-d",
      "wh",
      "--project",
      join(ROOT, "examples"),
      "--extra",
      "fast",
      "--group",
      "test",
      ...targetArgs(["3.12"], ["x86_64-manylinux_2_28"]),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const files = await archives(join(dir, "wh"));
    for (const p of ["example_app", "example_speedups", "example_legacy", "example_color"]) {
      assert.ok(files.some((f) => f.startsWith(p)), `${p} missing from ${files.join()}`);
    }
  }));

/**
 * A pip that installs from pylock.toml: the machine's own when it can (pip >= 25.x), else the
 * newest pip of the local wheel mirror (named by `pip config list`) in a throw-away venv.
 */
async function pylockPip(work: string): Promise<string | undefined> {
  const help = await python(["-m", "pip", "install", "--help"], work);
  if (help?.code === 0 && help.stdout.includes("pylock")) return "python3";
  // pip's own configuration names the mirror (python() isolates it, so ask without that).
  const config = await new Deno.Command("python3", {
    args: ["-m", "pip", "config", "list"],
    stdout: "piped",
    stderr: "null",
  }).output().then((o) => ({ stdout: decoder.decode(o.stdout) })).catch(() => undefined);
  const dirs = [...(config?.stdout ?? "").matchAll(/file:\/\/(\S+?)\/simple/g)].map((m) =>
    join(m[1]!, "files")
  );
  let best: { path: string; version: number[] } | undefined;
  for (const dir of dirs) {
    try {
      for await (const e of Deno.readDir(dir)) {
        const m = /^pip-(\d+)\.(\d+)(?:\.(\d+))?-py3-none-any\.whl$/.exec(e.name);
        if (!m) continue;
        const version = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
        if (
          !best ||
          version.join(".").localeCompare(best.version.join("."), undefined, { numeric: true }) > 0
        ) {
          best = { path: join(dir, e.name), version };
        }
      }
    } catch { /* not there */ }
  }
  if (!best || best.version[0]! < 26) return undefined;
  const venv = join(work, "venv");
  if ((await python(["-m", "venv", venv], work))?.code !== 0) return undefined;
  const bin = join(venv, "bin", "python");
  const install = await runPython(
    ["-m", "pip", "install", "-q", "--no-index", best.path],
    work,
    bin,
  );
  return install?.code === 0 ? bin : undefined;
}

Deno.test({
  name: "a pip that reads pylock.toml installs offline from the generated lock",
  ignore: !HAVE_PIP,
  fn: () =>
    withServer(async (server, dir) => {
      const interpreter = await pylockPip(dir);
      if (interpreter === undefined) {
        console.warn(
          "SKIPPING the pylock.toml install check: this pip cannot read pylock.toml and no pip >= 26 is in a local mirror",
        );
        return;
      }
      const run = await download(server, dir, [
        "-d",
        "wh",
        "example-app[fast]",
        ...targetArgs(["3.11", "3.13"], ["x86_64-manylinux_2_28", "x86_64-pc-windows-msvc"]),
      ]);
      assert.equal(run.code, 0, run.stderr);
      const lock = await Deno.readTextFile(join(dir, "wh", "pylock.toml"));
      assert.match(lock, /lock-version = "1\.0"/);
      assert.match(lock, /path = "\.\/example_http-2\.1\.0-py3-none-any\.whl"/);
      await server.close();
      const out = await runPython(
        pipInstallOfflineArgs("wh", "site", ["-r", "wh/pylock.toml"]),
        dir,
        interpreter,
      );
      assert.equal(out?.code, 0, out?.stderr);
      const installed = [...Deno.readDirSync(join(dir, "site"))].map((e) => e.name);
      // This machine is Linux x86_64: the Windows-only dependency must not be installed.
      assert.ok(
        installed.some((n) => n.startsWith("example_speedups-0.3.1.dist-info")),
        installed.join(),
      );
      assert.ok(!installed.some((n) => n.startsWith("example_color")), installed.join());
    }),
});

Deno.test("index pages that fail once with 503 or a reset are retried, not fatal", () =>
  withServer(async (server, dir) => {
    const { main } = await import("../cli/main.ts");
    const { memorySink } = await import("../cli/io.ts");
    const failedOnce = new Set<string>();
    let injected = 0;
    const flaky: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes("/simple/") && !failedOnce.has(url)) {
        failedOnce.add(url);
        injected++;
        return injected % 2 === 0
          ? Promise.reject(new TypeError("connection reset by peer"))
          : Promise.resolve(new Response("busy", { status: 503, headers: { "retry-after": "0" } }));
      }
      return fetch(input, init);
    };
    const stderr = memorySink();
    const code = await main([
      "download",
      ...common(server, dir),
      "-d",
      join(dir, "wh"),
      "example-app",
      ...targetArgs(["3.12"]),
      "-v",
    ], {
      stdout: memorySink(),
      stderr,
      env: () => undefined,
      cwd: dir,
      fetch: flaky,
      now: Date.now,
    });
    assert.equal(code, 0, stderr.text());
    assert.ok(injected >= 4, `only ${injected} failures were injected`);
    assert.match(stderr.text(), /Retrying .*\/simple\/.* server returned 503/);
    assert.equal((await archives(join(dir, "wh"))).length, 4);
  }));

Deno.test("--uv-cache-dir takes wheels a uv cache holds, says so, and never where hashes are required", () =>
  withServer(async (server, dir) => {
    const { writeFakeUvCache } = await import("./_uv_cache_fixture.ts");
    const wheels: { filename: string; bytes: Uint8Array; sha256: string }[] = [];
    for (
      const name of ["example_idna-3.7-py3-none-any.whl", "example_certs-2024.2.2-py3-none-any.whl"]
    ) {
      const bytes = await Deno.readFile(join(EXAMPLES, name));
      wheels.push({ filename: name, bytes, sha256: await sha256Hex(bytes) });
    }
    await writeFakeUvCache(join(dir, "uv"), wheels);
    const fileRequests = () =>
      server.requests.filter((r) => /\/files\/.*\.whl$/.test(r.path)).length;
    const run = await download(server, dir, ["--uv-cache-dir", "uv", "-d", "wh", "example-http"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /example_idna-3\.7-py3-none-any\.whl.*rebuilt/);
    assert.equal(
      fileRequests(),
      1,
      `only example-http itself is downloaded: ${server.requests.map((r) => r.path).join(" ")}`,
    );
    assert.deepEqual(await archives(join(dir, "wh")), [
      "example_certs-2024.2.2-py3-none-any.whl",
      "example_http-2.1.0-py3-none-any.whl",
      "example_idna-3.7-py3-none-any.whl",
    ]);
    // Hash-checking mode: the rebuilt files cannot match, so everything is downloaded.
    const req = await Deno.readTextFile(join(dir, "wh", "requirements.txt"));
    const pinned = req.replace(/example-(certs|idna)==\S+ \\\n\s+--hash=sha256:[0-9a-f]+\n?/g, "");
    const indexHash = (n: string) => wheels.find((w) => w.filename.startsWith(n))!.sha256;
    await Deno.writeTextFile(
      join(dir, "hashed.txt"),
      `${pinned}example-idna==3.7 --hash=sha256:${
        indexHash("example_idna")
      }\nexample-certs==2024.2.2 --hash=sha256:${indexHash("example_certs")}\n`,
    );
    const before = fileRequests();
    const hashed = await download(server, dir, [
      "--no-cache",
      "--uv-cache-dir",
      "uv",
      "-d",
      "wh2",
      "-r",
      "hashed.txt",
    ]);
    assert.equal(hashed.code, 0, hashed.stderr);
    assert.doesNotMatch(hashed.stderr, /rebuilt/);
    assert.equal(fileRequests() - before, 3);
  }));

Deno.test("a user's requirements.txt in the destination is never overwritten", () =>
  withServer(async (server, dir) => {
    const mine = "example-app>=1.0  # my app\n";
    await Deno.writeTextFile(join(dir, "requirements.txt"), mine);
    const run = await download(server, dir, ["-d", ".", "-r", "requirements.txt"]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /Refusing to overwrite .*requirements\.txt: it is one of this run's inputs/,
    );
    assert.equal(await Deno.readTextFile(join(dir, "requirements.txt")), mine);
    assert.deepEqual(await archives(dir), [], "nothing was downloaded");
  }));

Deno.test("side files of an earlier run that no longer apply are removed, not left stale", () =>
  withServer(async (server, dir) => {
    const one = await download(server, dir, ["-d", "wh", "example-app==1.0.0"]);
    assert.equal(one.code, 0, one.stderr);
    assert.ok(await Deno.stat(join(dir, "wh", "requirements.txt")));
    const two = await download(server, dir, [
      "-d",
      "wh",
      ...targetArgs(["3.12"], ["linux", "windows"]),
      "example-app",
    ]);
    assert.equal(two.code, 0, two.stderr);
    await assert.rejects(
      () => Deno.stat(join(dir, "wh", "requirements.txt")),
      Deno.errors.NotFound,
    );
    const win = await Deno.readTextFile(join(dir, "wh", "requirements-cp312-windows.txt"));
    assert.match(win, /-r requirements-cp312-windows\.txt/);
    assert.match(win, /example-color==0\.4\.6/);
  }));

Deno.test("--dry-run --report - writes only the JSON report to stdout", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, [
      "-d",
      "wh",
      "--dry-run",
      "--report",
      "-",
      "example-app",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.install.length, 4);
    assert.match(run.stderr, /Would download 4 of 4 files/);
  }));

Deno.test("hash-checking mode takes the file whose hash is given and needs == pins", () =>
  withServer(async (server, dir) => {
    const sha = await sha256Hex(await Deno.readFile(join(EXAMPLES, "example_app-1.1.0.tar.gz")));
    await Deno.writeTextFile(join(dir, "hashed.txt"), `example-app==1.1.0 --hash=sha256:${sha}\n`);
    const run = await download(server, dir, ["-d", "wh", "--no-deps", "-r", "hashed.txt"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await archives(join(dir, "wh")), ["example_app-1.1.0.tar.gz"]);
    await Deno.writeTextFile(join(dir, "loose.txt"), `example-app>=1 --hash=sha256:${sha}\n`);
    const loose = await download(server, dir, ["-d", "wh2", "-r", "loose.txt"]);
    assert.equal(loose.code, 2);
    assert.match(loose.stderr, /must be pinned with ==.*example-app>=1/);
  }));

Deno.test("a direct reference (name @ URL, a file URL, or an archive path in a file) is that file", () =>
  withServer(async (server, dir) => {
    const old = "example_app-1.0.0-py3-none-any.whl";
    const byUrl = await download(server, dir, [
      "-d",
      "a",
      `example-app @ ${server.url}files/${old}`,
    ]);
    assert.equal(byUrl.code, 0, byUrl.stderr);
    const a = await archives(join(dir, "a"));
    assert.ok(a.includes(old), a.join());
    assert.ok(!a.includes("example_app-1.1.0-py3-none-any.whl"), a.join());
    assert.ok(a.includes("example_http-2.1.0-py3-none-any.whl"), "its dependencies are resolved");
    await Deno.writeTextFile(join(dir, "reqs.txt"), `${join(EXAMPLES, old)}\n`);
    const byPath = await download(server, dir, ["-d", "b", "-r", "reqs.txt"]);
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.ok((await archives(join(dir, "b"))).includes(old));
    // A git reference is built (tests/build_download_e2e_test.ts); --no-build refuses it, named.
    const vcs = await download(server, dir, [
      "-d",
      "c",
      "--no-build",
      "example-app @ git+https://example.org/app.git",
    ]);
    assert.equal(vcs.code, 1, vcs.stderr);
    assert.match(
      vcs.stderr,
      /--no-build: example-app @ git\+https:\/\/example\.org\/app\.git needs a build \(a git checkout\)/,
    );
  }));

Deno.test("progress off a terminal: no escape codes, and -v prints a line per file", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, [
      "-d",
      "wh",
      "example-http",
      "--progress",
      "auto",
      "-v",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stderr.includes("\x1b"), JSON.stringify(run.stderr));
    assert.match(run.stderr, /Fetched example_idna-3\.7-py3-none-any\.whl/);
    assert.match(
      run.stderr,
      /Resolved 3 packages in .* · Downloaded 3 files \(.*\) in .* · 0 from cache/,
    );
  }));

Deno.test("an index without PEP 658 metadata that ignores Range costs one transfer per file, not two", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, ["-d", "wh", "example-http"]);
    assert.equal(run.code, 0, run.stderr);
    const transfers = server.requests.filter((r) =>
      /\/files\/.*\.whl$/.test(r.path) && r.status < 300
    );
    assert.equal(
      transfers.length,
      3,
      transfers.map((r) => `${r.path} ${r.range ?? ""}`).join("\n"),
    );
    assert.equal((await archives(join(dir, "wh"))).length, 3);
  }, { pep658: false, range: false }));

Deno.test("name @ URL with --hash in hash-checking mode takes that hash as the file's", () =>
  withServer(async (server, dir) => {
    const name = "example_idna-3.7-py3-none-any.whl";
    const sha = await sha256Hex(await Deno.readFile(join(EXAMPLES, name)));
    await Deno.writeTextFile(
      join(dir, "r.txt"),
      `example-idna @ ${server.url}files/${name} --hash=sha256:${sha}\n`,
    );
    const ok = await download(server, dir, ["-d", "wh", "-r", "r.txt"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await archives(join(dir, "wh")), [name]);
    await Deno.writeTextFile(
      join(dir, "bad.txt"),
      `example-idna @ ${server.url}files/${name} --hash=sha256:${"0".repeat(64)}\n`,
    );
    const bad = await download(server, dir, ["--no-cache", "-d", "wh2", "-r", "bad.txt"]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /sha256/);
  }));

Deno.test("files already in the destination are not downloaded again, even with a new cache", () =>
  withServer(async (server, dir) => {
    const first = await download(server, dir, ["--no-cache", "-d", "wh", "example-app"]);
    assert.equal(first.code, 0, first.stderr);
    const before = server.requests.filter((r) => /\/files\/.*\.whl$/.test(r.path)).length;
    const again = await download(server, dir, ["--no-cache", "-d", "wh", "example-app"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Downloaded 0 files/);
    assert.equal(server.requests.filter((r) => /\/files\/.*\.whl$/.test(r.path)).length, before);
  }));

Deno.test({
  name: "Ctrl-C mid-run exits with 130, says so, and leaves no partial file in the destination",
  ignore: Deno.build.os === "windows",
  fn: () =>
    withServer(async (server, dir) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          join(ROOT, "cli", "main.ts"),
          "download",
          ...common(server, dir),
          "-d",
          "wh",
          "example-app",
        ],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Wait until the run has asked the index (its signal handler is set up by then); every
      // response is delayed, so it is still working when the signal comes.
      for (let i = 0; i < 200 && server.requests.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 200));
      child.kill("SIGINT");
      const out = await child.output();
      assert.equal(out.code, 130, decoder.decode(out.stderr));
      assert.match(decoder.decode(out.stderr), /^Interrupted/m);
      const left = await Array.fromAsync(Deno.readDir(join(dir, "wh"))).catch(() => []);
      assert.ok(
        left.every((e) => !/\.(tmp|part)$|^\.tmp-/.test(e.name)),
        left.map((e) => e.name).join(),
      );
    }, { latencyMs: 700 }),
});

Deno.test("an extra the project does not provide is warned about, as pip does", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, ["--dry-run", "-d", "wh", "example-app[nope]"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: example-app 1\.1\.0 does not provide the extra 'nope'/);
  }));
