// `wheelhouse serve --upstream` end to end (issue 16): the CLI as a pull-through proxy of a test
// index. pip installs through it; after the upstream is stopped a second install in a fresh venv
// still works from the proxy's cache (and the pages say they are stale); two clients asking at
// once for one file cause one upstream transfer and both get the right bytes, the first of them
// before the transfer ends; upstream URLs and credentials never reach a client. Skips the pip
// parts, loudly, where python3 with venv is absent.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { archives, EXAMPLES, indexArgs, LINUX_312, wheelhouse } from "./_e2e_helpers.ts";
import { servedFilesFromDir, startIndexServer } from "./index_server.ts";
import { freshVenv, haveVenv, pipFreeze, runPython } from "./_python.ts";
import { serve } from "./_serve_cli.ts";
import { buildWheel } from "./wheel_factory.ts";

const JSON_V1 = "application/vnd.pypi.simple.v1+json";
const hasVenv = await haveVenv("pip installs through `wheelhouse serve --upstream`");

async function pipInstall(indexUrl: string, venv: string, work: string): Promise<void> {
  const python = await freshVenv(venv);
  const install = await runPython(
    ["-m", "pip", "install", "--index-url", indexUrl, "--no-cache-dir", "example-app[fast]"],
    work,
    python,
  );
  assert.equal(install?.code, 0, `${install?.stdout}${install?.stderr}`);
  const got = await pipFreeze(python);
  assert.match(got, /^example-app==1\.1\.0$/m);
}

Deno.test("serve --upstream: pip installs through it, and again from its cache once the upstream is gone", async () => {
  const work = await Deno.makeTempDir({ prefix: "wheelhouse-proxy-" });
  const upstream = await startIndexServer({
    projects: await servedFilesFromDir(EXAMPLES),
    basicAuth: { username: "team", password: "s3cret" },
    // Pages must be revalidated on every use, so that the proxy notices the upstream is gone.
    cacheControl: "max-age=0, must-revalidate",
  });
  const withCredentials = upstream.indexUrl.replace("http://", "http://team:s3cret@");
  const proxy = await serve(
    ["--upstream", withCredentials, "--cache-dir", join(work, "cache"), "--port", "0"],
    work,
  );
  let stopped;
  try {
    // Pages link to the proxy, never to the upstream or its credentials.
    const page = await fetch(`${proxy.indexUrl}example-app/`, { headers: { accept: JSON_V1 } });
    const text = await page.text();
    assert.equal(page.status, 200, text);
    assert.doesNotMatch(text, new RegExp(String(upstream.url.slice(7, -1))));
    assert.doesNotMatch(text, /s3cret|team/);
    assert.ok(JSON.parse(text).files.length > 0);
    // Our own client through the proxy.
    const dest = join(work, "wh");
    const ours = await wheelhouse(
      [
        "download",
        ...indexArgs(proxy.indexUrl, join(work, "client-cache")),
        "-d",
        dest,
        ...LINUX_312,
        "example-app",
      ],
      work,
    );
    assert.equal(ours.code, 0, ours.stderr);
    assert.ok((await archives(dest)).some((n) => n.startsWith("example_app-")));
    if (hasVenv) await pipInstall(proxy.indexUrl, join(work, "venv1"), work);
    await upstream.close();
    // The upstream is gone: the cache answers, and says so.
    const stale = await fetch(`${proxy.indexUrl}example-app/`, { headers: { accept: JSON_V1 } });
    await stale.body?.cancel();
    assert.equal(stale.status, 200);
    assert.match(stale.headers.get("x-wheelhouse-stale") ?? "", /upstream unreachable/);
    if (hasVenv) await pipInstall(proxy.indexUrl, join(work, "venv2"), work);
  } finally {
    stopped = await proxy.stop();
    await upstream.close().catch(() => {});
  }
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.doesNotMatch(stopped.stderr, /s3cret/);
  await Deno.remove(work, { recursive: true });
});

Deno.test("serve --upstream: two clients asking at once for one file share one upstream transfer, streamed as it arrives", async () => {
  const work = await Deno.makeTempDir({ prefix: "wheelhouse-proxy-share-" });
  const big = await buildWheel({ name: "big", version: "1.0", padding: 2 * 1024 * 1024 });
  const upstream = await startIndexServer({ projects: [big], bytesPerSecond: 1024 * 1024 });
  const proxy = await serve(
    ["--upstream", upstream.indexUrl, "--cache-dir", join(work, "cache"), "--port", "0", "--quiet"],
    work,
  );
  try {
    const page = await fetch(`${proxy.indexUrl}big/`, { headers: { accept: JSON_V1 } });
    const url = new URL(JSON.parse(await page.text()).files[0].url, `${proxy.indexUrl}big/`);
    const started = Date.now();
    let firstByteMs = Infinity;
    const get = async () => {
      const response = await fetch(url);
      assert.equal(response.status, 200);
      const hash = createHash("sha256");
      for await (const chunk of response.body!) {
        firstByteMs = Math.min(firstByteMs, Date.now() - started);
        hash.update(chunk);
      }
      return hash.digest("hex");
    };
    const [a, b] = await Promise.all([get(), get()]);
    const total = Date.now() - started;
    assert.equal(a, big.sha256);
    assert.equal(b, big.sha256);
    const transfers = upstream.requests.filter((r) =>
      r.path.endsWith(big.filename) && r.method === "GET"
    );
    assert.equal(transfers.length, 1, JSON.stringify(upstream.requests));
    // About 2 s at 1 MiB/s: the first bytes reached the client long before the end.
    assert.ok(firstByteMs < total / 2, `first byte after ${firstByteMs} ms of ${total} ms`);
  } finally {
    await proxy.stop();
    await upstream.close();
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("serve --upstream refuses what it cannot mean, with exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-proxy-bad-" });
  try {
    const cases: [string[], RegExp][] = [
      [["--upstream", "ftp://x/simple/"], /--upstream expects an http\(s\) index URL/],
      [["--upstream", "http://127.0.0.1:9/simple/", "wheelhouse"], /give no folder and no --cache/],
      [["--offline"], /--offline only applies with --upstream/],
    ];
    for (const [args, message] of cases) {
      const out = await wheelhouse(["serve", "--port", "0", ...args], dir);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr.split("\n")[0]!, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --upstream --offline never asks the upstream: it serves what the cache holds", async () => {
  const work = await Deno.makeTempDir({ prefix: "wheelhouse-proxy-offline-" });
  const upstream = await startIndexServer({ projects: await servedFilesFromDir(EXAMPLES) });
  const cache = join(work, "cache");
  try {
    // Online once: a page and one of its files go into the cache.
    const online = await serve([
      "--upstream",
      upstream.indexUrl,
      "--cache-dir",
      cache,
      "--port",
      "0",
      "--quiet",
    ], work);
    let file: string;
    try {
      const page = await fetch(`${online.indexUrl}example-app/`, { headers: { accept: JSON_V1 } });
      const doc = JSON.parse(await page.text());
      file = doc.files[0].filename;
      const got = await fetch(new URL(doc.files[0].url, `${online.indexUrl}example-app/`));
      await got.arrayBuffer();
      assert.equal(got.status, 200);
    } finally {
      await online.stop();
    }
    upstream.requests.length = 0;
    const offline = await serve(
      [
        "--upstream",
        upstream.indexUrl,
        "--offline",
        "--cache-dir",
        cache,
        "--port",
        "0",
        "--quiet",
      ],
      work,
    );
    try {
      const page = await fetch(`${offline.indexUrl}example-app/`, { headers: { accept: JSON_V1 } });
      const doc = JSON.parse(await page.text());
      assert.equal(page.status, 200);
      assert.match(page.headers.get("x-wheelhouse-stale") ?? "", /offline/);
      assert.deepEqual(doc.files.map((f: { filename: string }) => f.filename), [file]);
      const got = await fetch(new URL(doc.files[0].url, `${offline.indexUrl}example-app/`));
      await got.arrayBuffer();
      assert.equal(got.status, 200);
      const unknown = await fetch(`${offline.indexUrl}example-http/`);
      await unknown.body?.cancel();
      assert.equal(unknown.status, 404);
    } finally {
      await offline.stop();
    }
    assert.deepEqual(upstream.requests, [], "the offline proxy asked the upstream");
  } finally {
    await upstream.close();
    await Deno.remove(work, { recursive: true });
  }
});
