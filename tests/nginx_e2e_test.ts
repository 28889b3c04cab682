// The static tree on a real web server (issue 16): `download --simple-index` writes PEP 503 HTML,
// PEP 691 JSON and PEP 658 `.metadata` files; nginx (Debian's nginx-light, which .ci/run installs)
// serves them with the configuration in examples/nginx/wheelhouse.conf, on a free port, from a
// temp folder. pip installs from it reading the metadata files and the JSON pages, and wheelhouse
// downloads from it. Skips loudly where nginx or python3 with venv is absent.
import assert from "node:assert/strict";
import { join } from "node:path";
import { archives, EXAMPLES, indexArgs, LINUX_312, wheelhouse } from "./_e2e_helpers.ts";
import { NGINX, startNginx } from "./_nginx.ts";
import { servedFilesFromDir, startIndexServer } from "./index_server.ts";
import { freshVenv, haveVenv, runPython } from "./_python.ts";

if (NGINX === undefined) {
  console.warn("SKIPPING the nginx tests: no nginx (apt-get install -y nginx-light)");
}
const hasVenv = await haveVenv("pip installs from nginx");

/** Starts nginx on the documented configuration, serving `root`; stops it after `fn`. */
async function withNginx(
  root: string,
  work: string,
  fn: (indexUrl: string, accessLog: () => Promise<string>) => Promise<void>,
): Promise<void> {
  const nginx = await startNginx(root, work);
  try {
    await fn(nginx.indexUrl, nginx.accessLog);
  } finally {
    await nginx.stop();
  }
}

Deno.test({
  name:
    "nginx serves the --simple-index tree: JSON and HTML pages, .metadata files; pip installs from it",
  ignore: NGINX === undefined,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "wheelhouse-nginx-" });
    const index = await startIndexServer({ projects: await servedFilesFromDir(EXAMPLES) });
    const dest = join(work, "wheelhouse");
    try {
      // With python3, the host is the target, so that pip can install what was downloaded.
      const target = hasVenv ? [] : [...LINUX_312];
      const out = await wheelhouse(
        [
          "download",
          ...indexArgs(index.indexUrl, join(work, "cache")),
          "-d",
          dest,
          "--simple-index",
          ...target,
          "example-app[fast]",
        ],
        work,
      );
      assert.equal(out.code, 0, out.stderr);
    } finally {
      await index.close();
    }
    const wheels = (await archives(dest)).filter((n) => n.endsWith(".whl"));
    assert.ok(wheels.length > 0);
    for (const w of wheels) assert.ok(await Deno.stat(join(dest, `${w}.metadata`)), w);
    await withNginx(dest, work, async (indexUrl, accessLog) => {
      // Both page formats, by Accept, listing the same files with the same hashes.
      const json = await fetch(`${indexUrl}example-app/`, {
        headers: { accept: "application/vnd.pypi.simple.v1+json" },
      });
      assert.equal(json.headers.get("content-type"), "application/vnd.pypi.simple.v1+json");
      const doc = await json.json();
      const html = await fetch(`${indexUrl}example-app/`, { headers: { accept: "text/html" } });
      assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
      const text = await html.text();
      for (
        const f of doc.files as {
          filename: string;
          url: string;
          hashes: { sha256: string };
          "core-metadata": unknown;
        }[]
      ) {
        assert.ok(text.includes(`#sha256=${f.hashes.sha256}`), f.filename);
        if (f.filename.endsWith(".whl")) {
          const m = f["core-metadata"] as { sha256: string };
          const bytes = new Uint8Array(
            await (await fetch(new URL(`${f.url}.metadata`, `${indexUrl}example-app/`)))
              .arrayBuffer(),
          );
          const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
            .map((b) => b.toString(16).padStart(2, "0")).join("");
          assert.equal(digest, m.sha256, f.filename);
        }
      }
      // Nothing outside the tree, no hidden files.
      const hidden = await fetch(`${indexUrl}../.wheelhouse-state.json`);
      await hidden.body?.cancel();
      assert.notEqual(hidden.status, 200);
      // wheelhouse downloads from it (JSON pages, metadata files).
      const again = join(work, "again");
      const ours = await wheelhouse(
        [
          "download",
          ...indexArgs(indexUrl, join(work, "cache2")),
          "-d",
          again,
          ...LINUX_312,
          "example-app",
        ],
        work,
      );
      assert.equal(ours.code, 0, ours.stderr);
      if (!hasVenv) return;
      const python = await freshVenv(join(work, "venv"));
      const install = await runPython(
        ["-m", "pip", "install", "--index-url", indexUrl, "--no-cache-dir", "example-app[fast]"],
        work,
        python,
      );
      assert.equal(install?.code, 0, `${install?.stdout}${install?.stderr}`);
      const log = await accessLog();
      assert.match(log, /GET \/[^ ]+\.whl\.metadata HTTP/, log);
    });
    await Deno.remove(work, { recursive: true });
  },
});

Deno.test("--simple-index never replaces a .metadata file it did not write, and removes its own stale ones", async () => {
  const work = await Deno.makeTempDir({ prefix: "wheelhouse-metadata-" });
  const index = await startIndexServer({ projects: await servedFilesFromDir(EXAMPLES) });
  try {
    const dest = join(work, "wh");
    const run = (...args: string[]) =>
      wheelhouse(
        [
          "download",
          ...indexArgs(index.indexUrl, join(work, "cache")),
          "-d",
          dest,
          "--simple-index",
          ...LINUX_312,
          ...args,
        ],
        work,
      );
    const first = await run("example-app");
    assert.equal(first.code, 0, first.stderr);
    const written = [...Deno.readDirSync(dest)].map((e) => e.name).filter((n) =>
      n.endsWith(".metadata")
    );
    assert.ok(written.length > 1, written.join());
    // A narrower run: the metadata of wheels no longer in the folder's pages goes with them.
    const narrower = await run("--no-deps", "--prune", "example-app");
    assert.equal(narrower.code, 0, narrower.stderr);
    const left = [...Deno.readDirSync(dest)].map((e) => e.name).filter((n) =>
      n.endsWith(".metadata")
    );
    assert.equal(left.length, 1, left.join());
    assert.match(left[0]!, /^example_app-.*\.whl\.metadata$/);
    // Someone's own file of that kind of name: refused, untouched.
    const own = join(dest, "mine-1.0-py3-none-any.whl.metadata");
    await Deno.writeTextFile(own, "my notes");
    const refused = await run("example-app");
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /Refusing to overwrite .*mine-1\.0-py3-none-any\.whl\.metadata/);
    assert.equal(await Deno.readTextFile(own), "my notes");
  } finally {
    await index.close();
    await Deno.remove(work, { recursive: true });
  }
});
