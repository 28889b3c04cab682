import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http from "node:http";
import net from "node:net";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { parseHtmlPage, parseJsonPage } from "../index/mod.ts";
import { buildSdist, buildWheel } from "../tests/wheel_factory.ts";
import { makeWheelhouse } from "./_serve_testing.ts";
import { BasicAuth, hashPassword } from "./basic_auth.ts";
import {
  type RequestLogEntry,
  type RunningServer,
  startServer,
  type StartServerOptions,
} from "./start_server.ts";
import {
  type ByteRange,
  type IndexSource,
  type OpenOutcome,
  ServeError,
  type SourceFile,
} from "./types.ts";
import { WheelhouseSource } from "./wheelhouse_source.ts";

const JSON_V1 = "application/vnd.pypi.simple.v1+json";
const HTML_V1 = "application/vnd.pypi.simple.v1+html";

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Sends `head` as is over a socket (no client normalises the path) and reads the answer. */
function raw(server: RunningServer, head: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(head));
    const chunks: Uint8Array[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf("\r\n\r\n");
      const lines = all.subarray(0, split).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({
        status: Number(lines[0]!.split(" ")[1]),
        headers,
        body: new Uint8Array(all.subarray(split + 4)),
      });
    });
  });
}

function get(
  server: RunningServer,
  target: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<RawResponse> {
  const lines = Object.entries({ host: "127.0.0.1", connection: "close", ...headers }).map((
    [k, v],
  ) => `${k}: ${v}`);
  return raw(server, `${method} ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

async function withServer(
  fn: (
    server: RunningServer,
    ctx: { dir: string; log: RequestLogEntry[]; files: Awaited<ReturnType<typeof fixtures>> },
  ) => Promise<void>,
  options: Partial<StartServerOptions> = {},
): Promise<void> {
  const files = await fixtures();
  const wh = await makeWheelhouse([files.wheel, files.sdist, files.big, files.other], {
    requiresPython: { [files.wheel.filename]: '>=3.8,!="<4>"' },
  });
  const log: RequestLogEntry[] = [];
  const server = await startServer({
    source: await WheelhouseSource.open(wh.dir),
    onRequest: (e) => log.push(e),
    onError: (e) => {
      throw e;
    },
    ...options,
  });
  try {
    await fn(server, { dir: wh.dir, log, files });
  } finally {
    await server.close();
    await wh.remove();
  }
}

async function fixtures() {
  return {
    wheel: await buildWheel({ name: "Demo_Pkg", version: "1.0", requiresDist: ["other>=2"] }),
    sdist: await buildSdist({ name: "Demo_Pkg", version: "1.0" }),
    big: await buildWheel({ name: "Demo_Pkg", version: "0.9", padding: 3_000_000 }),
    other: await buildWheel({ name: "other", version: "2.0" }),
  };
}

Deno.test("serve: the JSON and HTML pages of a project list the same files with the same facts", () =>
  withServer(async (server, { files }) => {
    const page = `${server.indexUrl}demo-pkg/`;
    const json = await get(server, "/simple/demo-pkg/", { accept: JSON_V1 });
    const html = await get(server, "/simple/demo-pkg/", { accept: HTML_V1 });
    assert.equal(json.headers["content-type"], JSON_V1);
    assert.equal(html.headers["content-type"], `${HTML_V1}; charset=utf-8`);
    assert.equal(json.headers.vary, "Accept, Accept-Encoding");
    const j = parseJsonPage(text(json.body), page);
    const h = parseHtmlPage(text(html.body), page);
    assert.equal(j.apiVersion, "1.1");
    assert.equal(h.apiVersion, "1.1");
    assert.deepEqual(j.versions, ["0.9", "1.0"]);
    const facts = (p: typeof j) =>
      p.files.map((f) => ({
        f: f.filename,
        u: f.url,
        h: f.hashes,
        r: f.requiresPython,
        m: f.coreMetadata,
        y: f.yanked,
      }));
    assert.deepEqual(facts(j), facts(h));
    assert.equal(j.files.length, 3);
    const wheel = j.files.find((f) => f.filename === files.wheel.filename)!;
    assert.equal(wheel.requiresPython, '>=3.8,!="<4>"');
    assert.equal(wheel.hashes.sha256, files.wheel.sha256);
    assert.equal(wheel.size, files.wheel.bytes.length);
    assert.match(wheel.uploadTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(j.files.find((f) => f.filename === files.sdist.filename)?.coreMetadata, false);
    // The metadata file the page announces is there, with the announced hash.
    assert.ok(wheel.coreMetadata !== false);
    const meta = await get(server, `/files/${files.wheel.filename}.metadata`);
    assert.equal(meta.status, 200);
    assert.equal(text(meta.body), files.wheel.metadata);
    assert.equal(sha256(meta.body), wheel.coreMetadata.hashes.sha256);
    assert.equal((await get(server, `/files/${files.sdist.filename}.metadata`)).status, 404);
    // The file itself, at the page's URL.
    const got = await fetch(wheel.url);
    assert.equal(got.headers.get("content-type"), "application/zip");
    assert.equal(sha256(new Uint8Array(await got.arrayBuffer())), files.wheel.sha256);
    const root = JSON.parse(text((await get(server, "/simple/", { accept: JSON_V1 })).body));
    assert.deepEqual(root, {
      meta: { "api-version": "1.1" },
      projects: [{ name: "demo-pkg" }, { name: "other" }],
    });
  }));

Deno.test("serve: Accept picks the format, ?format= overrides it, and 406 when nothing fits", () =>
  withServer(async (server) => {
    const type = async (headers: Record<string, string>, target = "/simple/other/") => {
      const r = await get(server, target, headers);
      return `${r.status} ${r.headers["content-type"]}`;
    };
    assert.equal(await type({}), "200 text/html; charset=utf-8");
    assert.equal(await type({ accept: "*/*" }), "200 text/html; charset=utf-8");
    assert.equal(
      await type({ accept: `${JSON_V1}, ${HTML_V1};q=0.1, text/html;q=0.01` }),
      `200 ${JSON_V1}`,
    );
    assert.equal(
      await type({ accept: `${JSON_V1};q=0.1, ${HTML_V1}` }),
      `200 ${HTML_V1}; charset=utf-8`,
    );
    assert.equal(await type({ accept: "application/xml" }), "406 text/plain; charset=utf-8");
    assert.equal(
      await type({}, `/simple/other/?format=${encodeURIComponent(JSON_V1)}`),
      `200 ${JSON_V1}`,
    );
  }));

Deno.test("serve: only the offered formats are served", () =>
  withServer(async (server) => {
    assert.equal((await get(server, "/simple/other/", { accept: JSON_V1 })).status, 406);
    const r = await get(server, "/simple/other/", { accept: `${JSON_V1}, text/html;q=0.01` });
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
  }, { formats: ["html"] }));

Deno.test("serve: project names are normalised with a 301, unknown projects are 404", () =>
  withServer(async (server) => {
    const moved = await get(server, "/simple/Demo.PKG/");
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, "/simple/demo-pkg/");
    assert.equal((await get(server, "/simple/demo-pkg")).headers.location, "/simple/demo-pkg/");
    assert.equal((await get(server, "/simple")).headers.location, "/simple/");
    const followed = await fetch(`${server.indexUrl}Demo_Pkg/`);
    assert.equal(followed.url, `${server.indexUrl}demo-pkg/`);
    await followed.body?.cancel();
    assert.equal((await get(server, "/simple/nope/")).status, 404);
    assert.equal((await get(server, "/simple/-bad-/")).status, 404);
    assert.equal((await get(server, "/files/nope-1.0.tar.gz")).status, 404);
    assert.equal((await get(server, "/files/manifest.json")).status, 404);
    assert.equal((await get(server, "/elsewhere")).status, 404);
  }));

Deno.test("serve: files answer Range with 206, 416 past the end, HEAD without a body", () =>
  withServer(async (server, { files }) => {
    const path = `/files/${files.big.filename}`;
    const size = files.big.bytes.length;
    const part = await get(server, path, { range: "bytes=100-199" });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], `bytes 100-199/${size}`);
    assert.equal(part.headers["content-length"], "100");
    assert.deepEqual(part.body, files.big.bytes.subarray(100, 200));
    const tail = await get(server, path, { range: "bytes=-22" });
    assert.deepEqual(tail.body, files.big.bytes.subarray(size - 22));
    const past = await get(server, path, { range: `bytes=${size}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers["content-range"], `bytes */${size}`);
    const head = await get(server, path, {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(size));
    assert.equal(head.headers["accept-ranges"], "bytes");
    assert.equal(head.headers.etag, `"${files.big.sha256}"`);
    assert.equal(head.body.length, 0);
    const whole = await get(server, path);
    assert.equal(whole.status, 200);
    assert.equal(sha256(whole.body), files.big.sha256);
    // If-Range with another validator: the whole file, not a range of a different one.
    const stale = await get(server, path, { range: "bytes=0-9", "if-range": '"0000"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, size);
    const sdist = await get(server, `/files/${files.sdist.filename}`, {}, "HEAD");
    assert.equal(sdist.headers["content-type"], "application/gzip");
    assert.equal(sdist.headers["content-encoding"], undefined);
  }));

Deno.test("serve: ETag and Last-Modified give 304s for files, metadata and pages", () =>
  withServer(async (server, { files }) => {
    for (
      const target of [
        `/files/${files.wheel.filename}`,
        `/files/${files.wheel.filename}.metadata`,
        "/simple/demo-pkg/",
        "/simple/",
      ]
    ) {
      const first = await get(server, target);
      assert.equal(first.status, 200, target);
      const etag = first.headers.etag!;
      const again = await get(server, target, { "if-none-match": etag });
      assert.equal(again.status, 304, target);
      assert.equal(again.body.length, 0);
      assert.equal(again.headers.etag, etag);
      assert.equal((await get(server, target, { "if-none-match": '"other"' })).status, 200);
      const since = await get(server, target, {
        "if-modified-since": first.headers["last-modified"]!,
      });
      assert.equal(since.status, 304, target);
      const before = new Date(Date.parse(first.headers["last-modified"]!) - 60_000).toUTCString();
      assert.equal((await get(server, target, { "if-modified-since": before })).status, 200);
    }
  }));

Deno.test("serve: pages are gzipped when the client accepts it, files never are", () =>
  withServer(async (server, { files }) => {
    const plain = await get(server, "/simple/demo-pkg/");
    const zipped = await get(server, "/simple/demo-pkg/", { "accept-encoding": "br, gzip" });
    assert.equal(zipped.headers["content-encoding"], "gzip");
    assert.equal(zipped.headers["content-length"], String(zipped.body.length));
    assert.deepEqual(new Uint8Array(gunzipSync(zipped.body)), plain.body);
    assert.equal(plain.headers["content-encoding"], undefined);
    const file = await get(server, `/files/${files.wheel.filename}`, { "accept-encoding": "gzip" });
    assert.equal(file.headers["content-encoding"], undefined);
    assert.deepEqual(file.body, files.wheel.bytes);
  }));

Deno.test("serve: paths that try to leave the folder are 404 or 400, never a file", () =>
  withServer(async (server, { dir }) => {
    // A secret next to the folder, and a symlink in it that points there.
    const secret = join(dir, "..", `secret-${crypto.randomUUID()}.txt`);
    await Deno.writeTextFile(secret, "secret");
    try {
      const name = secret.split("/").pop()!;
      const targets = [
        `/files/../${name}`,
        `/files/..%2f${name}`,
        `/files/%2e%2e/${name}`,
        `/files/%2e%2e%2f${name}`,
        `/files/%252e%252e%252f${name}`,
        `/files/..%5c${name}`,
        `/files/..\\${name}`,
        `/files/%00${name}`,
        `/files/${name}%00.whl`,
        `/files/${encodeURIComponent(secret)}`,
        `/files//${secret}`,
        `/files/manifest.json`,
        `/simple/../../${name}`,
        "/files/%",
        `http://127.0.0.1/files/../${name}`,
        "/etc/passwd",
      ];
      for (const target of targets) {
        const r = await get(server, target);
        assert.ok(r.status === 404 || r.status === 400, `${target}: ${r.status}`);
        assert.ok(!text(r.body).includes("secret"), target);
      }
    } finally {
      await Deno.remove(secret);
    }
  }));

Deno.test("serve: only GET and HEAD; oversized headers get 431", () =>
  withServer(async (server, { log }) => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await get(server, "/simple/", { "content-length": "0" }, method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, "GET, HEAD");
    }
    const big = await get(server, "/simple/", { "x-big": "a".repeat(20_000) });
    assert.equal(big.status, 431);
    assert.equal(log.at(-1)?.status, 431);
    // The server still answers afterwards.
    assert.equal((await get(server, "/simple/")).status, 200);
  }, { maxHeaderSize: 8 * 1024 }));

Deno.test("serve: with auth, everything needs the right credentials", async () => {
  const auth = new BasicAuth([{ user: "alice", hash: await hashPassword("s3cret", { N: 1024 }) }], {
    realm: "team",
  });
  await withServer(async (server, { files }) => {
    const none = await get(server, "/simple/");
    assert.equal(none.status, 401);
    assert.equal(none.headers["www-authenticate"], 'Basic realm="team", charset="UTF-8"');
    const wrong = await get(server, `/files/${files.wheel.filename}`, {
      authorization: `Basic ${btoa("alice:nope")}`,
    });
    assert.equal(wrong.status, 401);
    assert.equal(
      (await get(server, "/simple/", { authorization: `Basic ${btoa("bob:s3cret")}` })).status,
      401,
    );
    const right = { authorization: `Basic ${btoa("alice:s3cret")}` };
    assert.equal((await get(server, "/simple/", right)).status, 200);
    assert.deepEqual(
      (await get(server, `/files/${files.wheel.filename}`, right)).body,
      files.wheel.bytes,
    );
    assert.equal((await get(server, "/simple/", right, "POST")).status, 405);
  }, { auth });
});

Deno.test("serve: one log entry per request with method, path, status, bytes and time", () =>
  withServer(async (server, { log, files }) => {
    await get(server, "/simple/other/");
    await get(server, `/files/${files.other.filename}`, { range: "bytes=0-9" });
    await get(server, "/simple/nope/", {}, "HEAD");
    assert.equal(log.length, 3);
    assert.deepEqual(log.map((e) => [e.method, e.path, e.status]), [
      ["GET", "/simple/other/", 200],
      ["GET", `/files/${files.other.filename}`, 206],
      ["HEAD", "/simple/nope/", 404],
    ]);
    assert.equal(log[1]?.bytes, 10);
    assert.equal(log[2]?.bytes, 0);
    assert.ok(log.every((e) => e.ms >= 0));
  }));

/** A source whose file bodies arrive slowly (one 64 KiB chunk every 5 ms), and that counts cancels. */
function slowSource(inner: IndexSource): IndexSource & { cancelled: number } {
  const slow = {
    cancelled: 0,
    description: inner.description,
    projects: () => inner.projects(),
    project: (name: string) => inner.project(name),
    file: (filename: string) => inner.file(filename),
    metadata: (file: SourceFile) => inner.metadata(file),
    async open(file: SourceFile, range?: ByteRange): Promise<OpenOutcome> {
      const opened = await inner.open(file, range);
      if (opened.kind !== "opened") return opened;
      const reader = opened.body.getReader();
      let pending = new Uint8Array(0);
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 5));
          while (pending.length < 65536) {
            const { done, value } = await reader.read();
            if (done) break;
            const joined = new Uint8Array(pending.length + value.length);
            joined.set(pending);
            joined.set(value, pending.length);
            pending = joined;
          }
          if (pending.length === 0) return controller.close();
          controller.enqueue(pending.subarray(0, 65536));
          pending = pending.subarray(65536);
        },
        async cancel() {
          slow.cancelled++;
          await reader.cancel();
        },
      }, { highWaterMark: 0 });
      return { kind: "opened", body };
    },
  };
  return slow;
}

Deno.test("serve: a client that goes away mid-file does not hurt the server", async () => {
  const files = await fixtures();
  const wh = await makeWheelhouse([files.big]);
  const log: RequestLogEntry[] = [];
  const source = slowSource(await WheelhouseSource.open(wh.dir));
  const server = await startServer({
    source,
    onRequest: (e) => log.push(e),
    onError: (e) => {
      throw e;
    },
  });
  try {
    await new Promise<void>((resolve) => {
      const req = http.get(`${server.url}files/${files.big.filename}`, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", () => {});
    });
    for (let i = 0; i < 50 && log.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(log.length, 1);
    assert.ok(log[0]!.bytes < files.big.bytes.length, `${log[0]!.bytes} bytes`);
    // The file was released when the client went away, not read to its end.
    for (let i = 0; i < 50 && source.cancelled === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(source.cancelled, 1);
    const again = await get(server, `/files/${files.big.filename}`);
    assert.equal(sha256(again.body), files.big.sha256);
  } finally {
    await server.close();
    await wh.remove();
  }
});

Deno.test("serve: a port in use is a ServeError, and close() ends kept-alive connections", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    '{"version":1,"generator":"wheelhouse","files":[]}',
  );
  const source = await WheelhouseSource.open(dir);
  const first = await startServer({ source, closeGraceMs: 200 });
  try {
    await assert.rejects(
      startServer({ source, port: first.port }),
      (e) => e instanceof ServeError && e.code === "address-in-use",
    );
    // A keep-alive connection with a request in flight does not hold close() for long.
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve) =>
      http.get(first.indexUrl, { agent }, (res) => res.resume().on("end", resolve))
    );
    const started = performance.now();
    await first.close();
    assert.ok(performance.now() - started < 1000);
    agent.destroy();
    await assert.rejects(fetch(first.indexUrl));
  } finally {
    await first.close();
    await Deno.remove(dir, { recursive: true });
  }
});
