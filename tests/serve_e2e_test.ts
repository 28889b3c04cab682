// `wheelhouse serve` end to end (issue 16): a folder made with `wheelhouse download` from the
// example index, served by the CLI as a subprocess; real pip installs from it into fresh venvs
// (reading PEP 658 metadata files before it downloads any wheel), wheelhouse downloads from it in
// both page formats, and hostile or odd requests get the right answers. Skips the pip parts,
// loudly, where python3 with venv is absent.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import net from "node:net";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { EXAMPLES, indexArgs, LINUX_312, wheelhouse } from "./_e2e_helpers.ts";
import { servedFilesFromDir, startIndexServer } from "./index_server.ts";
import { runPython } from "./_python.ts";
import { serve } from "./_serve_cli.ts";
import { type RequestLogEntry, startServer, WheelhouseSource } from "../serve/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();
const JSON_V1 = "application/vnd.pypi.simple.v1+json";
const HTML_V1 = "application/vnd.pypi.simple.v1+html";
/** What the installs ask for: a wheel with an extra, its dependencies, a binary wheel. */
const SET = ["example-app[fast]"];
/** Every run of a child process is bounded. */
const CHILD_MS = 120_000;

const hasVenv = (await runPython(["-c", "import venv, ensurepip"], "."))?.code === 0;
if (!hasVenv) console.warn("SKIPPING pip installs from `wheelhouse serve`: no python3 with venv");
const PIP26 = await (async () => {
  try {
    for await (const e of Deno.readDir("/opt/pypi/files")) {
      if (/^pip-26\.[\d.]+-py3-none-any\.whl$/.test(e.name)) return join("/opt/pypi/files", e.name);
    }
  } catch { /* no local mirror */ }
  return undefined;
})();
if (hasVenv && PIP26 === undefined) {
  console.warn("SKIPPING the pip 26 install from `wheelhouse serve`: no pip 26 wheel in /opt/pypi");
}

interface Folder {
  /** The wheelhouse folder. */
  dir: string;
  /** A scratch folder for the test's other files. */
  work: string;
  /** The manifest's files: name -> sha256. */
  files: Map<string, string>;
  /** The target flags the folder was downloaded for. */
  target: string[];
}

let folder: Promise<Folder> | undefined;

/** The wheelhouse every test serves, downloaded once from the example index. */
function wheelhouseFolder(): Promise<Folder> {
  folder ??= (async () => {
    const work = await Deno.makeTempDir({ prefix: "wheelhouse-serve-e2e-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));
    const index = await startIndexServer({ projects: await servedFilesFromDir(EXAMPLES) });
    // With python3, the host is the target, so that pip can install what was downloaded.
    const target = hasVenv ? [] : [...LINUX_312];
    const dir = join(work, "wheelhouse");
    try {
      const run = await wheelhouse(
        [
          "download",
          ...indexArgs(index.indexUrl, join(work, "cache")),
          "-d",
          dir,
          ...target,
          ...SET,
        ],
        work,
        {},
        CHILD_MS,
      );
      assert.equal(run.code, 0, run.stderr);
    } finally {
      await index.close();
    }
    return { dir, work, files: await manifestFiles(dir), target };
  })();
  return folder;
}

async function manifestFiles(dir: string): Promise<Map<string, string>> {
  const m = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))) as {
    files: { filename: string; sha256: string }[];
  };
  return new Map(m.files.map((f) => [f.filename, f.sha256]));
}

/** Runs the CLI with `stdin` as its standard input. */
async function withStdin(
  args: string[],
  cwd: string,
  stdin: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_MS),
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

interface LogLine {
  method: string;
  path: string;
  status: number;
  bytes: number;
}

/** The request log lines of a server's stderr. */
function requestLog(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|-) (\S+) (\d{3}) (\d+)B \d+\.\dms$/.exec(line);
    if (m) out.push({ method: m[1]!, path: m[2]!, status: Number(m[3]), bytes: Number(m[4]) });
  }
  return out;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** One request exactly as written (no client tidies the path), on its own connection. */
function raw(port: number, target: string, headers: Record<string, string> = {}, method = "GET") {
  const lines = Object.entries({ host: `127.0.0.1:${port}`, connection: "close", ...headers })
    .map(([k, v]) => `${k}: ${v}`);
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = net.connect(
      port,
      "127.0.0.1",
      () => socket.write(`${method} ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`),
    );
    const chunks: Uint8Array[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${target}`)));
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf("\r\n\r\n");
      const head = all.subarray(0, split).toString("latin1").split("\r\n");
      const h: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        h[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({
        status: Number(head[0]!.split(" ")[1]),
        headers: h,
        body: new Uint8Array(all.subarray(split + 4)),
      });
    });
  });
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** A fresh venv, its pip upgraded to `pip` (a wheel file) when given. */
async function venv(dir: string, pip?: string): Promise<string> {
  const made = await runPython(["-m", "venv", dir], ".");
  assert.equal(made?.code, 0, made?.stderr);
  const python = join(dir, "bin", "python");
  if (pip !== undefined) {
    const up = await runPython(
      ["-m", "pip", "install", "--no-index", "--find-links", join(pip, ".."), pip],
      ".",
      python,
    );
    assert.equal(up?.code, 0, up?.stderr);
  }
  return python;
}

/**
 * Installs SET from the server into a fresh venv and checks what the server saw: pip read the
 * metadata files, and fetched no wheel before it had resolved (every wheel GET comes after the
 * last metadata GET), and each installed wheel once.
 */
async function pipInstallsFromServe(pip: string | undefined): Promise<void> {
  const f = await wheelhouseFolder();
  const served = await serve([f.dir, "--port", "0"], f.work);
  let stopped;
  try {
    const python = await venv(join(f.work, `venv-${crypto.randomUUID()}`), pip);
    const version = await runPython(["-m", "pip", "--version"], ".", python);
    const install = await runPython(
      ["-m", "pip", "install", "--index-url", served.indexUrl, "--no-cache-dir", ...SET],
      ".",
      python,
    );
    assert.equal(install?.code, 0, `${version?.stdout}${install?.stdout}${install?.stderr}`);
    const installed = await runPython(
      ["-c", "import importlib.metadata as m; print(m.version('example-app'))"],
      ".",
      python,
    );
    assert.equal(installed?.stdout.trim(), "1.1.0");
  } finally {
    stopped = await served.stop();
  }
  assert.equal(stopped.code, 0, stopped.stderr);
  const log = requestLog(stopped.stderr);
  assert.ok(log.every((l) => l.status < 400), stopped.stderr);
  const metadata = log.map((l, i) => ({ l, i })).filter(({ l }) => l.path.endsWith(".metadata"));
  const wheels = log.map((l, i) => ({ l, i })).filter(({ l }) => /\.whl$/.test(l.path));
  assert.ok(metadata.length > 0, `pip read no metadata files:\n${stopped.stderr}`);
  assert.ok(wheels.length > 0);
  assert.ok(
    wheels[0]!.i > metadata.at(-1)!.i,
    `a wheel was downloaded before resolution ended:\n${stopped.stderr}`,
  );
  const names = wheels.map(({ l }) => decodeURIComponent(l.path.split("/").pop()!));
  assert.equal(new Set(names).size, names.length, "a wheel was downloaded twice");
  for (const name of names) assert.ok(f.files.has(name), name);
}

Deno.test({
  name:
    "pip installs a set from `wheelhouse serve` into a fresh venv, resolving from .metadata files",
  ignore: !hasVenv,
  fn: () => pipInstallsFromServe(undefined),
});

Deno.test({
  name: "pip 26 installs the same set from `wheelhouse serve` the same way",
  ignore: !hasVenv || PIP26 === undefined,
  fn: () => pipInstallsFromServe(PIP26),
});

Deno.test("wheelhouse downloads from `wheelhouse serve` the very files it serves, from JSON and from HTML pages", async () => {
  const f = await wheelhouseFolder();
  const served = await serve([f.dir, "--port", "0", "--quiet"], f.work);
  // HTML: a server of the same folder that offers only HTML pages.
  const log: RequestLogEntry[] = [];
  const html = await startServer({
    source: await WheelhouseSource.open(f.dir),
    formats: ["html"],
    onRequest: (e) => log.push(e),
  });
  try {
    for (const [name, url] of [["json", served.indexUrl], ["html", html.indexUrl]] as const) {
      const dest = join(f.work, `again-${name}`);
      const run = await wheelhouse(
        [
          "download",
          ...indexArgs(url, join(f.work, `cache-${name}`)),
          "-d",
          dest,
          ...f.target,
          ...SET,
        ],
        f.work,
        {},
        CHILD_MS,
      );
      assert.equal(run.code, 0, run.stderr);
      const got = await manifestFiles(dest);
      assert.deepEqual([...got].sort(), [...f.files].sort(), name);
    }
    // Projects the folder lacks (example-color, Windows only) are asked for and are 404.
    const pages = log.filter((e) => e.path.startsWith("/simple/"));
    const projects = new Set([...f.files.keys()].map((n) => n.split("-")[0]!.replaceAll("_", "-")));
    assert.ok(pages.length > 0, "no pages");
    for (const e of pages) {
      assert.equal(e.status, projects.has(e.path.split("/")[2]!) ? 200 : 404, e.path);
    }
    assert.ok(log.some((e) => e.path.endsWith(".metadata")), "wheelhouse used no metadata files");
  } finally {
    await html.close();
    const stopped = await served.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

Deno.test("`wheelhouse serve`: JSON and HTML list the same files; Range, HEAD, 304, gzip; hostile paths and odd requests", async () => {
  const f = await wheelhouseFolder();
  const served = await serve([f.dir, "--port", "0"], f.work);
  const port = served.port;
  try {
    assert.match(served.indexUrl, /^http:\/\/127\.0\.0\.1:\d+\/simple\/$/);
    const root = JSON.parse(
      decoder.decode((await raw(port, "/simple/", { accept: JSON_V1 })).body),
    );
    const projects = (root.projects as { name: string }[]).map((p) => p.name);
    assert.ok(projects.includes("example-app"));
    const listed = new Set<string>();
    for (const project of projects) {
      const json = await raw(port, `/simple/${project}/`, { accept: JSON_V1 });
      const html = await raw(port, `/simple/${project}/`, { accept: HTML_V1 });
      const fromJson = (JSON.parse(decoder.decode(json.body)).files as {
        filename: string;
        url: string;
        hashes: { sha256: string };
      }[]).map((x) => `${x.url}#sha256=${x.hashes.sha256}`);
      const fromHtml = [...decoder.decode(html.body).matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
      assert.deepEqual(fromJson, fromHtml, project);
      for (const link of fromJson) {
        listed.add(decodeURIComponent(link.split("/").pop()!.split("#")[0]!));
      }
    }
    assert.deepEqual([...listed].sort(), [...f.files.keys()].sort());

    const [name, hash] = [...f.files].find(([n]) => n.endsWith(".whl"))!;
    const path = `/files/${encodeURIComponent(name)}`;
    const whole = await raw(port, path);
    assert.equal(sha256(whole.body), hash);
    const size = whole.body.length;
    const part = await raw(port, path, { range: "bytes=-100" });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], `bytes ${size - 100}-${size - 1}/${size}`);
    assert.deepEqual(part.body, whole.body.subarray(size - 100));
    assert.equal((await raw(port, path, { range: `bytes=${size}-` })).status, 416);
    const head = await raw(port, path, {}, "HEAD");
    assert.equal(head.headers["content-length"], String(size));
    assert.equal(head.body.length, 0);
    assert.equal((await raw(port, path, { "if-none-match": `"${hash}"` })).status, 304);
    const meta = await raw(port, `${path}.metadata`);
    assert.match(decoder.decode(meta.body), /^Metadata-Version: /);
    const gz = await raw(port, "/simple/example-app/", { "accept-encoding": "gzip" });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.match(decoder.decode(gunzipSync(gz.body)), /example_app-/);

    assert.equal(
      (await raw(port, "/simple/Example_App/")).headers.location,
      "/simple/example-app/",
    );
    assert.equal((await raw(port, "/simple/no-such-project/")).status, 404);
    assert.equal((await raw(port, "/simple/", {}, "POST")).status, 405);
    assert.equal((await raw(port, "/simple/", { "x-big": "x".repeat(32 * 1024) })).status, 431);
    await Deno.writeTextFile(join(f.work, "secret.txt"), "secret");
    await Deno.writeTextFile(join(f.dir, "unlisted.txt"), "secret");
    for (
      const target of [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2e%2e%2fsecret.txt",
        "/files/%252e%252e%252fsecret.txt",
        "/files/..%5csecret.txt",
        "/files/..\\secret.txt",
        "/files/secret.txt%00.whl",
        `/files/${encodeURIComponent(join(f.work, "secret.txt"))}`,
        "/files/unlisted.txt",
        "/files/manifest.json",
        "/files/",
      ]
    ) {
      const r = await raw(port, target);
      assert.ok(r.status === 404 || r.status === 400, `${target}: ${r.status}`);
      assert.ok(!decoder.decode(r.body).includes("secret"), target);
    }
  } finally {
    const stopped = await served.stop("SIGTERM");
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, /^Stopped\.$/m);
    // One line per request: every request above was logged.
    assert.ok(requestLog(stopped.stderr).length > 20, stopped.stderr);
    await assert.rejects(raw(port, "/simple/"), "the listener is closed");
  }
});

Deno.test("`wheelhouse serve --auth`: lines from --hash-password and from the documented Python one-liner; 401 otherwise", async () => {
  const f = await wheelhouseFolder();
  const made = await withStdin(["serve", "--hash-password", "alice"], f.work, "s3cret pass\n");
  assert.equal(made.code, 0, made.stderr);
  const line = made.stdout.trim();
  assert.match(line, /^alice:\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  const doc = await Deno.readTextFile(join(ROOT, "docs", "SERVING.md"));
  const oneLiner = /\| (python3 -c '[^']+' )alice >> users\.txt/.exec(doc);
  assert.ok(oneLiner, "the Python one-liner is in docs/SERVING.md");
  const py = await new Deno.Command("sh", {
    args: ["-c", `printf '%s' 'b0b pass' | ${oneLiner[1]}bob`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(py.code, 0, decoder.decode(py.stderr));
  const users = join(f.work, "users.txt");
  await Deno.writeTextFile(users, `# team\n${line}\n${decoder.decode(py.stdout)}`);

  const served = await serve([f.dir, "--port", "0", "--auth", users], f.work);
  try {
    const none = await raw(served.port, "/simple/");
    assert.equal(none.status, 401);
    assert.match(none.headers["www-authenticate"]!, /^Basic realm="wheelhouse"/);
    const wrong = `Basic ${btoa("alice:wrong")}`;
    assert.equal((await raw(served.port, "/simple/", { authorization: wrong })).status, 401);
    const [name] = [...f.files.keys()];
    assert.equal((await raw(served.port, `/files/${encodeURIComponent(name!)}`)).status, 401);
    for (const [user, password] of [["alice", "s3cret pass"], ["bob", "b0b pass"]]) {
      const ok = await raw(served.port, "/simple/", {
        authorization: `Basic ${btoa(`${user}:${password}`)}`,
      });
      assert.equal(ok.status, 200, user);
    }
    // Clients with the credentials in the URL.
    const url = served.indexUrl.replace("http://", "http://bob:b0b%20pass@");
    const run = await wheelhouse(
      [
        "download",
        ...indexArgs(url, join(f.work, "cache-auth")),
        "-d",
        join(f.work, "auth-dest"),
        ...f.target,
        ...SET,
      ],
      f.work,
      {},
      CHILD_MS,
    );
    assert.equal(run.code, 0, run.stderr);
    if (hasVenv) {
      const dry = await runPython(
        ["-m", "pip", "install", "--dry-run", "--no-cache-dir", "--index-url", url, ...SET],
        f.work,
      );
      assert.equal(dry?.code, 0, dry?.stderr);
      const refused = await runPython(
        [
          "-m",
          "pip",
          "install",
          "--dry-run",
          "--no-cache-dir",
          "--index-url",
          served.indexUrl,
          ...SET,
        ],
        f.work,
      );
      assert.notEqual(refused?.code, 0);
    }
  } finally {
    const stopped = await served.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(requestLog(stopped.stderr).some((l) => l.status === 401));
  }
});

Deno.test("`wheelhouse serve` bad input exits 2 with one line: no folder, no manifest, port in use, bad auth file", async () => {
  const f = await wheelhouseFolder();
  const bare = join(f.work, "bare");
  await Deno.mkdir(bare, { recursive: true });
  const badAuth = join(f.work, "bad-users.txt");
  await Deno.writeTextFile(badAuth, "# users\nalice:plaintext\n");
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const cases: [string[], RegExp][] = [
      [["absent"], /^error: absent does not exist$/],
      [["bare"], /^error: bare has no manifest\.json: not a folder wheelhouse wrote$/],
      [
        [f.dir, "--port", String(port)],
        new RegExp(`^error: Cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use$`),
      ],
      [
        [f.dir, "--auth", "bad-users.txt"],
        /^error: --auth file bad-users\.txt line 2: the hash of user "alice" is not usable/,
      ],
      [[f.dir, "--auth", "nowhere.txt"], /^error: Cannot read the --auth file nowhere\.txt: /],
      [[f.dir, "--port", "70000"], /^error: --port must be a number from 0 to 65535/],
    ];
    for (const [args, expected] of cases) {
      const run = await wheelhouse(["serve", ...args], f.work, {}, CHILD_MS);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stdout, "");
      const lines = run.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("Run "));
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, expected);
    }
  } finally {
    await new Promise((r) => taken.close(r));
  }
});
