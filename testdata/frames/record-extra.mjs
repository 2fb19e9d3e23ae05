#!/usr/bin/env node
// Records the extra real-gateway frames the simulator (internal/gatewaysim)
// imitates but the original transcripts (frames-*.jsonl) do not cover: models.list,
// chat.abort / sessions.abort of a running run, tool-events caps, status by
// scope, agent timeout:0, idempotency replays, closed-schema errors, ticks,
// oversized frames, handshake timeout, password auth, request-frame extras.
//
// Needs Node >= 22 (built-in WebSocket), no npm deps. Same line format as
// frames-*.jsonl: {t, scenario, conn, dir: in|out|meta, frame}.
//
//   node record-extra.mjs --url ws://127.0.0.1:18789 --token lab-token-123 \
//     --product openclaw --protocol 4 --out extra-openclaw-2026.9.6.jsonl \
//     [--run-dir DIR] [--cache DIR] [--prefix NAME] [--scenario a,b|all]
//
// Machine-specific paths are replaced like the lab transcripts do:
// --run-dir -> <RUN_DIR>, --cache/--prefix -> <CACHE>/<PREFIX>, --cache -> <CACHE>.
// Session keys are agent:main:fake-rec-* so runs never touch other sessions.
//
// extra-openclaw-2026.9.6.jsonl / extra-clawdbot-2026.1.24-3.jsonl were made
// with --scenario all against real gateways (`go run ./e2e/cmd/gateways`
// starts both; see testdata/README.md for the token the replay test expects),
// with abort-idle and no-scopes recorded in a second pass. The issue-12
// scenarios (usage-cost-warm … config-get, and fallback, which runs only when
// named) need gateways with priced models and a fake model that understands
// [[reply:TEXT]]: --print-config prints their config, --down-port serves the
// failing provider; testdata/README.md has the recipe. After re-recording,
// refresh the simulator's embedded extract:
//   go test ./internal/gatewaysim -run TestEmbeddedExtractUpToDate -update
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const URL_ = opt("url", "ws://127.0.0.1:18789");
const TOKEN = opt("token", "lab-token-123");
const PRODUCT = opt("product", "openclaw");
const PROTOCOL = Number(opt("protocol", PRODUCT === "openclaw" ? "4" : "3"));
const OUT = opt("out", `extra-${PRODUCT}.jsonl`);
const RUN_DIR = opt("run-dir", "");
const CACHE = opt("cache", "");
const PREFIX = opt("prefix", "");
const SCEN = opt("scenario", "all");
const V4 = PROTOCOL >= 4;
const TAG = randomUUID().slice(0, 8);

// --print-config: the "models" and "agents" config sections of the gateways
// the issue-12 scenarios (usage-cost … fallback) were recorded against; merge
// them into the gateway config (see testdata/README.md). --fallback makes the
// failing down/down-echo the primary model, for the "fallback" scenario.
if (argv.includes("--print-config")) {
  const fakeURL = opt("fake-url", "http://127.0.0.1:18899/v1");
  const downURL = opt("down-url", "http://127.0.0.1:18898/v1");
  const m = (id, name, cost, contextWindow, maxTokens) => ({
    id, name, reasoning: false, input: ["text"], ...(cost ? { cost } : {}), contextWindow, maxTokens,
  });
  const cfg = {
    models: {
      ...(PRODUCT === "openclaw" ? { catalogRefresh: { enabled: false } } : {}),
      mode: "merge",
      providers: {
        fake: {
          baseUrl: fakeURL, apiKey: "fake-key", api: "openai-completions",
          models: [
            m("fake-echo", "Fake Echo", { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, 128000, 4096),
            m("fake-mini", "Fake Mini", { input: 0.25, output: 1.25, cacheRead: 0.025, cacheWrite: 0.3 }, 64000, 2048),
            m("fake-free", "Fake Free", undefined, 32000, 1024), // no cost entry
          ],
        },
        down: {
          baseUrl: downURL, apiKey: "down-key", api: "openai-completions",
          models: [m("down-echo", "Down Echo", { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }, 200000, 8192)],
        },
      },
    },
    agents: {
      defaults: {
        model: { primary: argv.includes("--fallback") ? "down/down-echo" : "fake/fake-echo", fallbacks: ["fake/fake-mini"] },
        models: { "fake/fake-echo": { alias: "Fake" }, "fake/fake-mini": { alias: "Mini" }, "fake/fake-free": {}, "down/down-echo": { alias: "Down" } },
      },
    },
  };
  console.log(JSON.stringify(cfg, null, 2));
  process.exit(0);
}

// --down-port: serve the "down" provider while recording: every completion
// fails, with 404 model_not_found (OpenClaw falls back at once; it retries a
// 429 for minutes) or, with --down-status 429, a rate limit (Clawdbot falls
// back only on that kind of error).
let downServer;
if (opt("down-port", "")) {
  const status = Number(opt("down-status", "404"));
  downServer = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const body = req.method === "GET" ? { object: "list", data: [] }
        : status === 404
          ? { error: { message: "The model `down-echo` does not exist or you do not have access to it.", type: "invalid_request_error", param: null, code: "model_not_found" } }
          : { error: { message: "Rate limit reached for down-echo. Please try again later.", type: "requests", param: null, code: "rate_limit_exceeded" } };
      res.writeHead(req.method === "GET" ? 200 : status, { "content-type": "application/json", "retry-after-ms": "1" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise((resolve) => downServer.listen(Number(opt("down-port", "")), "127.0.0.1", resolve));
}

const replaceAll = (s, a, b) => (a ? s.split(a).join(b) : s);
function normalise(text) {
  let s = text;
  s = replaceAll(s, RUN_DIR, "<RUN_DIR>");
  if (CACHE && PREFIX) s = replaceAll(s, `${CACHE}/${PREFIX}`, "<CACHE>/<PREFIX>");
  s = replaceAll(s, CACHE, "<CACHE>");
  return s;
}

let connSeq = 0;
let scenario = "init";
const log = (conn, dir, frame) => {
  const line = JSON.stringify({ t: Date.now(), scenario, conn, dir, frame });
  appendFileSync(OUT, normalise(line) + "\n");
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Conn {
  constructor() {
    this.id = ++connSeq;
    this.frames = [];
    this.waiters = [];
    this.closed = null;
  }
  open(headers) {
    return new Promise((resolve, reject) => {
      const ws = headers ? new WebSocket(URL_, { headers }) : new WebSocket(URL_);
      this.ws = ws;
      ws.addEventListener("open", () => {
        log(this.id, "meta", { event: "open", url: URL_ });
        resolve();
      });
      ws.addEventListener("error", (e) => {
        log(this.id, "meta", { event: "error", message: String(e.message || e.type) });
        reject(new Error("ws error"));
      });
      ws.addEventListener("close", (e) => {
        this.closed = { code: e.code, reason: e.reason, wasClean: e.wasClean };
        log(this.id, "meta", { event: "close", code: e.code, reason: e.reason, wasClean: e.wasClean });
        this.poke();
      });
      ws.addEventListener("message", (ev) => {
        const text = typeof ev.data === "string" ? ev.data : Buffer.from(ev.data).toString();
        let f;
        try {
          f = JSON.parse(text);
        } catch {
          f = { _raw: text };
        }
        log(this.id, "in", f);
        this.frames.push(f);
        this.poke();
      });
    });
  }
  poke() {
    for (const w of [...this.waiters]) w();
  }
  // wait until pred(frame) matches a frame received after index `from`, or close/timeout.
  waitFor(pred, timeoutMs = 60000, from = 0) {
    return new Promise((resolve) => {
      const check = () => {
        for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i])) return done(this.frames[i]);
        if (this.closed) return done(null);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (v) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(v);
      };
      this.waiters.push(check);
      check();
    });
  }
  sendRaw(text, logged) {
    log(this.id, "out", logged ?? JSON.parse(text));
    this.ws.send(text);
  }
  send(frame) {
    this.sendRaw(JSON.stringify(frame), frame);
  }
  // request: resolves with the first res for the id (or the final one with expectFinal).
  async request(method, params, { expectFinal = false, timeoutMs = 60000, extra = {} } = {}) {
    const id = randomUUID();
    const from = this.frames.length;
    this.send({ type: "req", id, method, ...(params === undefined ? {} : { params }), ...extra });
    const isRes = (f) => f.type === "res" && f.id === id;
    let r = await this.waitFor(isRes, timeoutMs, from);
    if (expectFinal && r && r.ok && r.payload?.status === "accepted") {
      r = await this.waitFor((f) => isRes(f) && f !== r, timeoutMs, from);
    }
    return r;
  }
  challenge() {
    return this.waitFor((f) => f.type === "event" && f.event === "connect.challenge", 20000);
  }
  async connect(over = {}) {
    await this.challenge();
    const params = {
      minProtocol: PROTOCOL,
      maxProtocol: PROTOCOL,
      client: { id: "gateway-client", displayName: "fake-rec", version: "0.0.1", platform: "linux", mode: "backend", instanceId: randomUUID() },
      caps: [],
      auth: { token: TOKEN },
      role: "operator",
      scopes: ["operator.admin"],
      ...over,
    };
    for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
    return this.request("connect", params, { timeoutMs: 20000 });
  }
  close() {
    try {
      this.ws.close(1000, "rec done");
    } catch {}
  }
  async done() {
    this.close();
    await this.waitFor(() => false, 2000);
  }
}

async function connected(over, headers) {
  const c = new Conn();
  await c.open(headers);
  const r = await c.connect(over);
  return { c, r };
}
// one connect attempt that is expected to fail: wait for the close.
async function connectFails(over, headers) {
  const { c } = await connected(over, headers);
  await c.waitFor(() => false, 3000);
  c.close();
}
const key = (name) => `agent:main:fake-rec-${name}-${TAG}`;
const isAgentEv = (runId, pred) => (f) => f.type === "event" && f.event === "agent" && f.payload?.runId === runId && pred(f.payload);

const scenarios = {
  async "models-list"() {
    const { c } = await connected();
    await c.request("models.list", {});
    await c.request("models.list", { bogus: 1 });
    if (V4) await c.request("models.list", { view: "all" });
    await c.done();
  },
  async "status-scopes"() {
    for (const scopes of [["operator.admin"], ["operator.read"], ["operator.write"]]) {
      const { c } = await connected({ scopes });
      await c.request("status", {});
      await c.request("health", {});
      await c.request("sessions.list", { limit: 1 });
      await c.request("no.such.method", {});
      await c.done();
    }
  },
  async "no-scopes"() {
    const { c } = await connected({ scopes: [] });
    await c.request("sessions.list", { limit: 1 });
    await c.request("sessions.patch", { key: key("noscope"), label: `fake-rec-noscope ${TAG}` });
    await c.request("agent", { message: "x", sessionKey: key("noscope"), idempotencyKey: randomUUID() });
    await c.request("no.such.method", {});
    await c.done();
  },
  async "chat-abort"() {
    const { c } = await connected();
    const runId = randomUUID();
    const sk = key("abort");
    const id = randomUUID();
    c.send({ type: "req", id, method: "agent", params: { message: "abort me [[delay=5]]", sessionKey: sk, idempotencyKey: runId, timeout: 60 } });
    await c.waitFor(isAgentEv(runId, (p) => p.stream === "lifecycle" && p.data?.phase === "start"), 30000);
    await sleep(500);
    await c.request("chat.abort", { sessionKey: sk, runId });
    await c.waitFor((f) => f.type === "res" && f.id === id && f.payload?.status !== "accepted", 30000);
    await sleep(1000);
    // a second abort of the finished run, and the idempotent replay of the finished run
    await c.request("chat.abort", { sessionKey: sk, runId });
    await c.request("agent", { message: "abort me [[delay=5]]", sessionKey: sk, idempotencyKey: runId, timeout: 60 });
    await c.request("sessions.list", { search: "fake-rec-abort" });
    await c.done();
  },
  async "sessions-abort"() {
    if (!V4) {
      const { c } = await connected();
      await c.request("sessions.abort", { key: key("sabort"), runId: randomUUID() });
      await c.done();
      return;
    }
    const { c } = await connected();
    const runId = randomUUID();
    const sk = key("sabort");
    const id = randomUUID();
    c.send({ type: "req", id, method: "agent", params: { message: "abort me too [[delay=5]]", sessionKey: sk, idempotencyKey: runId, timeout: 60 } });
    await c.waitFor(isAgentEv(runId, (p) => p.stream === "lifecycle" && p.data?.phase === "start"), 30000);
    await sleep(500);
    await c.request("sessions.abort", { key: sk, runId });
    await c.waitFor((f) => f.type === "res" && f.id === id && f.payload?.status !== "accepted", 30000);
    await sleep(1000);
    await c.done();
  },
  // abort requests when nothing is running (and chat.abort without runId).
  async "abort-idle"() {
    const { c } = await connected();
    const sk = key("idle");
    await c.request("chat.abort", { sessionKey: sk });
    if (V4) {
      await c.request("sessions.abort", { key: sk, runId: randomUUID() });
      await c.request("sessions.abort", { key: sk });
      await c.request("sessions.abort", {});
    }
    await c.done();
  },
  async "tool-events"() {
    const { c } = await connected({ caps: ["tool-events"] });
    await c.request("agent", { message: "hello with tool-events caps", sessionKey: key("tools"), idempotencyKey: randomUUID(), timeout: 60 }, { expectFinal: true });
    await sleep(500);
    await c.done();
  },
  async "agent-replay"() {
    const { c } = await connected();
    const runId = randomUUID();
    const sk = key("replay");
    const id = randomUUID();
    c.send({ type: "req", id, method: "agent", params: { message: "replay [[delay=2]]", sessionKey: sk, idempotencyKey: runId, timeout: 60 } });
    await c.waitFor((f) => f.type === "res" && f.id === id, 30000);
    await sleep(300);
    await c.request("agent", { message: "replay [[delay=2]]", sessionKey: sk, idempotencyKey: runId, timeout: 60 });
    await c.waitFor((f) => f.type === "res" && f.id === id && f.payload?.status !== "accepted", 30000);
    await sleep(300);
    await c.request("agent", { message: "replay [[delay=2]]", sessionKey: sk, idempotencyKey: runId, timeout: 60 });
    await c.request("agent.wait", { runId, timeoutMs: 1000 });
    await c.request("agent.wait", { runId: randomUUID(), timeoutMs: 0 });
    await c.done();
  },
  async "agent-variants"() {
    const { c } = await connected();
    await c.request("agent", { message: "zero timeout", sessionKey: key("t0"), idempotencyKey: randomUUID(), timeout: 0 }, { expectFinal: true });
    await c.request("agent", { message: "spawned", sessionKey: key("spawn"), idempotencyKey: randomUUID(), spawnedBy: "agent:main:main" }, { expectFinal: true });
    await c.request("agent", { message: "with provider", sessionKey: key("prov"), idempotencyKey: randomUUID(), provider: "fake" }, { expectFinal: true });
    await c.request("agent", { message: "allowed model", sessionKey: key("model"), idempotencyKey: randomUUID(), model: "fake/fake-echo" }, { expectFinal: true });
    await c.request("agent", { message: 5, sessionKey: key("num"), idempotencyKey: randomUUID() });
    await c.request("agent", { message: "x", sessionKey: key("x"), idempotencyKey: "" });
    await c.request("agent", undefined);
    await c.done();
  },
  async "patch-variants"() {
    const { c } = await connected();
    const sk = key("patch");
    await c.request("sessions.patch", { key: sk, label: `fake-rec label ${TAG}` });
    await c.request("sessions.patch", { key: sk, model: "Fake" });
    await c.request("sessions.list", { search: sk });
    await c.request("sessions.patch", { key: sk, model: null });
    await c.request("sessions.patch", { key: sk, model: "" });
    await c.request("sessions.patch", { key: sk, spawnedBy: "agent:main:main" });
    await c.request("sessions.patch", { key: sk, bogus: 1 });
    await c.request("sessions.patch", { model: "fake/fake-echo" });
    await c.request("sessions.list", { search: sk });
    await c.done();
  },
  async "list-variants"() {
    const { c } = await connected();
    await c.request("sessions.list", {});
    await c.request("sessions.list", { limit: 2, agentId: "main", search: "fake-rec" });
    await c.request("sessions.list", { limit: 0 });
    await c.request("sessions.list", { bogus: 1 });
    await c.request("sessions.list", { offset: 1, limit: 1 });
    await c.request("sessions.list", { includeGlobal: true, includeUnknown: true, activeMinutes: 60 });
    await c.request("sessions.list", undefined);
    await c.done();
  },
  async "connect-variants"() {
    const base = { id: "gateway-client", displayName: "fake-rec", version: "0.0.1", platform: "linux", mode: "backend" };
    await connectFails({ bogusTop: 1 });
    await connectFails({ client: { ...base, bogus: 1 } });
    await connectFails({ client: { ...base, mode: "bogus" } });
    await connectFails({ client: { ...base, version: "" } });
    await connectFails({ client: { ...base, buildId: "x", timeZone: "UTC" } });
    await connectFails({ scopes: null });
    await connectFails({ caps: null });
    await connectFails({ caps: [""] });
    await connectFails({ auth: { token: TOKEN, deviceToken: "x" } });
    await connectFails({ auth: { bogus: "x" } });
    await connectFails({ auth: { token: "" } });
    await connectFails({ auth: { password: TOKEN } });
    await connectFails({ auth: { password: "wrong" } });
    await connectFails({ auth: {} });
    await connectFails({ minProtocol: 3, maxProtocol: 4 });
    await connectFails({ minProtocol: 5, maxProtocol: 6 });
    await connectFails({ role: "bogus" });
    await connectFails({ client: undefined });
    await connectFails({ minProtocol: undefined });
  },
  async "frame-variants"() {
    // first frame is not connect
    {
      const c = new Conn();
      await c.open();
      await c.challenge();
      c.send({ type: "req", id: randomUUID(), method: "health", params: {} });
      await c.waitFor(() => false, 3000);
      c.close();
    }
    // first frame garbage
    {
      const c = new Conn();
      await c.open();
      await c.challenge();
      c.sendRaw("not json", { _raw: "not json" });
      await c.waitFor(() => false, 3000);
      c.close();
    }
    // numeric id in connect
    {
      const c = new Conn();
      await c.open();
      await c.challenge();
      c.send({ type: "req", id: 1, method: "connect", params: {} });
      await c.waitFor(() => false, 3000);
      c.close();
    }
    // after the handshake: traceparent, numeric id, event frame, garbage, unknown type
    const { c } = await connected();
    await c.request("health", {}, { extra: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });
    c.send({ type: "req", id: 7, method: "health", params: {} });
    await sleep(300);
    c.send({ type: "req", id: randomUUID(), method: "health", params: {}, bogus: 1 });
    await sleep(300);
    c.send({ type: "event", event: "x", payload: {} });
    await sleep(300);
    c.sendRaw("garbage", { _raw: "garbage" });
    await sleep(500);
    if (!c.closed) await c.request("health", {});
    await c.done();
  },
  async "oversize"() {
    // pre-auth: a connect frame bigger than 64 KiB; post-auth: a frame bigger than maxPayload.
    {
      const c = new Conn();
      await c.open();
      await c.challenge();
      const pad = "x".repeat(70 * 1024);
      const f = { type: "req", id: randomUUID(), method: "connect", params: { pad } };
      c.sendRaw(JSON.stringify(f), { type: "req", id: f.id, method: "connect", params: { pad: `<${pad.length} x>` } });
      await c.waitFor(() => false, 3000);
      c.close();
    }
    if (!V4) {
      const { c } = await connected();
      const pad = "x".repeat(600 * 1024);
      const f = { type: "req", id: randomUUID(), method: "health", params: { pad } };
      c.sendRaw(JSON.stringify(f), { type: "req", id: f.id, method: "health", params: { pad: `<${pad.length} x>` } });
      await c.waitFor(() => false, 3000);
      c.close();
    }
  },
  // write-only scope: admin-only agent/patch features, plus list edge cases.
  async "write-scope"() {
    const { c } = await connected({ scopes: ["operator.write"] });
    const sk = key("write");
    await c.request("sessions.patch", { key: sk, model: "fake/fake-echo" });
    await c.request("sessions.patch", { key: sk, verboseLevel: "on" });
    if (V4) await c.request("agent", { message: "x", sessionKey: sk, idempotencyKey: randomUUID(), model: "fake/fake-echo" }, { expectFinal: true });
    await c.request("agent", { message: "/new", sessionKey: sk, idempotencyKey: randomUUID() }, { expectFinal: true });
    await c.request("chat.abort", { sessionKey: sk, runId: randomUUID() });
    await c.request("sessions.list", { agentId: "nope", limit: 1 });
    await c.done();
  },
  // status once sessions exist: what a read-only caller sees compared with an admin.
  async "status-after"() {
    for (const scopes of [["operator.admin"], ["operator.read"]]) {
      const { c } = await connected({ scopes });
      await c.request("status", {});
      await c.done();
    }
  },
  async "origin-password"() {
    const port = new URL(URL_).port;
    const { c } = await connected({ auth: { password: TOKEN } }, { Origin: `http://127.0.0.1:${port}` });
    await c.waitFor(() => false, 1000);
    c.close();
  },
  async "handshake-timeout"() {
    const c = new Conn();
    await c.open();
    await c.waitFor(() => false, V4 ? 20000 : 15000);
    c.close();
  },
  async tick() {
    const { c } = await connected();
    await c.waitFor((f) => f.type === "event" && f.event === "tick", 40000);
    await c.done();
  },

  // ---- issue 12 (recorded against the "priced" gateway config, see testdata/README.md) ----

  // Not replayed: brings OpenClaw's usage.cost cache to "fresh" (its first
  // answers say cacheStatus.status "refreshing" and report stale totals).
  async "usage-cost-warm"() {
    const { c } = await connected();
    for (let i = 0; i < 30; i++) {
      const r = await c.request("usage.cost", {});
      if (!V4 || r?.payload?.cacheStatus?.status === "fresh") break;
      await sleep(3000);
    }
    await c.done();
  },
  // usage.cost before and after a priced run (the gateways cache it for 30 s),
  // with days, and for a read-only caller.
  async "usage-cost"() {
    const { c } = await connected();
    const sk = key("usage");
    await c.request("usage.cost", {});
    if (V4) {
      await c.request("agent", { message: "priced run", sessionKey: sk, idempotencyKey: randomUUID(), model: "Mini" }, { expectFinal: true });
    } else {
      await c.request("sessions.patch", { key: sk, model: "Mini" });
      await c.request("agent", { message: "priced run", sessionKey: sk, idempotencyKey: randomUUID() }, { expectFinal: true });
    }
    await sleep(35000);
    await c.request("usage.cost", {});
    await c.request("usage.cost", { days: 1 });
    await c.done();
    const r = await connected({ scopes: ["operator.read"] });
    await r.c.request("usage.cost", {});
    await r.c.done();
  },
  // The new agent params: a model run (promptMode "none"), the light mode,
  // label, and their validation. Clawdbot's closed schema rejects them.
  async "agent-modes"() {
    const { c } = await connected();
    const mr = key("modelrun");
    await c.request("agent", { message: 'model run [[reply:{"ok":true}]]', sessionKey: mr, idempotencyKey: randomUUID(), modelRun: true, promptMode: "none" }, { expectFinal: true });
    await c.request("sessions.list", { search: mr });
    await c.request("chat.history", { sessionKey: mr });
    await c.request("agent", { message: "model run mini", sessionKey: key("modelrun-mini"), idempotencyKey: randomUUID(), modelRun: true, promptMode: "none", model: "Mini", extraSystemPrompt: "Answer in JSON." }, { expectFinal: true });
    await c.request("agent", { message: "model run without key", idempotencyKey: randomUUID(), modelRun: true, promptMode: "none" }, { expectFinal: true });
    await c.request("agent", { message: "prompt none alone", sessionKey: key("pnone"), idempotencyKey: randomUUID(), promptMode: "none" }, { expectFinal: true });
    await c.request("agent", { message: "model run only", sessionKey: key("mronly"), idempotencyKey: randomUUID(), modelRun: true }, { expectFinal: true });
    const light = key("light");
    await c.request("agent", { message: "light run", sessionKey: light, idempotencyKey: randomUUID(), promptMode: "minimal", bootstrapContextMode: "lightweight", label: `fake-rec light ${TAG}` }, { expectFinal: true });
    await c.request("sessions.list", { search: light });
    await c.request("agent", { message: "x", sessionKey: key("bad"), idempotencyKey: randomUUID(), promptMode: "bogus" });
    await c.request("agent", { message: "x", sessionKey: key("bad"), idempotencyKey: randomUUID(), bootstrapContextMode: "bogus" });
    await c.request("agent", { message: "x", sessionKey: key("bad"), idempotencyKey: randomUUID(), modelRun: "yes" });
    await c.request("agent", { message: "x", sessionKey: key("bad"), idempotencyKey: randomUUID(), bootstrapContextMode: "lightweight" }, { expectFinal: true });
    await c.done();
  },
  // label as an agent param: stored on the session, not unique, bounded.
  async "agent-label"() {
    const { c } = await connected();
    const label = `fake-rec same ${TAG}`;
    await c.request("agent", { message: "labelled one", sessionKey: key("label1"), idempotencyKey: randomUUID(), label }, { expectFinal: true });
    await c.request("agent", { message: "labelled two", sessionKey: key("label2"), idempotencyKey: randomUUID(), label }, { expectFinal: true });
    await c.request("sessions.list", { label });
    await c.request("sessions.list", { search: `fake-rec-label1-${TAG}` });
    await c.request("agent", { message: "x", sessionKey: key("label3"), idempotencyKey: randomUUID(), label: "" });
    await c.request("agent", { message: "x", sessionKey: key("label3"), idempotencyKey: randomUUID(), label: "l".repeat(V4 ? 513 : 65) });
    await c.done();
  },
  // A private subagent session as clawgate makes one (agent:main:subagent:*,
  // labelled): its row, transcript, and deletion.
  async "subagent-session"() {
    const { c } = await connected();
    const sk = `agent:main:subagent:fake-rec-${TAG}`;
    await c.request("agent", { message: "private task", sessionKey: sk, idempotencyKey: randomUUID(), label: "fake-rec subagent" }, { expectFinal: true });
    await c.request("sessions.list", { search: sk });
    await c.request("chat.history", { sessionKey: sk });
    await c.request("sessions.delete", { key: sk });
    await c.request("sessions.list", { search: sk });
    await c.done();
  },
  // [[reply:TEXT]] and [[reply64:BASE64]] make the fake model answer exactly TEXT.
  async "reply-markers"() {
    const { c } = await connected();
    const sk = key("reply");
    await c.request("agent", { message: 'Answer: [[reply:{"answer": 42, "note": "a]b"}]] and more', sessionKey: sk, idempotencyKey: randomUUID() }, { expectFinal: true });
    const b64 = Buffer.from("line one\nline \"two\" ]] <ok>").toString("base64url");
    await c.request("agent", { message: `please [[reply64:${b64}]]`, sessionKey: sk, idempotencyKey: randomUUID() }, { expectFinal: true });
    await c.request("chat.history", { sessionKey: sk });
    await c.done();
  },
  // Per-run (OpenClaw) or per-session (Clawdbot) priced and unpriced models:
  // costUsd, usage.cost and the sessions.list row's estimatedCostUsd.
  async "agent-cost"() {
    const { c } = await connected();
    const mini = key("cost-mini");
    const free = key("cost-free");
    if (V4) {
      await c.request("agent", { message: "one", sessionKey: mini, idempotencyKey: randomUUID(), model: "Mini" }, { expectFinal: true });
      await c.request("agent", { message: "two two two two", sessionKey: mini, idempotencyKey: randomUUID(), model: "Mini" }, { expectFinal: true });
      await c.request("agent", { message: "free run", sessionKey: free, idempotencyKey: randomUUID(), model: "fake/fake-free" }, { expectFinal: true });
    } else {
      await c.request("sessions.patch", { key: mini, model: "Mini" });
      await c.request("agent", { message: "one", sessionKey: mini, idempotencyKey: randomUUID() }, { expectFinal: true });
      await c.request("agent", { message: "two two two two", sessionKey: mini, idempotencyKey: randomUUID() }, { expectFinal: true });
      await c.request("sessions.patch", { key: free, model: "fake/fake-free" });
      await c.request("agent", { message: "free run", sessionKey: free, idempotencyKey: randomUUID() }, { expectFinal: true });
    }
    await c.request("sessions.list", { search: mini });
    await c.request("sessions.list", { search: free });
    await c.done();
  },
  // sessions.delete: an existing session, again (gone), an unknown key, the
  // main session, deleteTranscript false, bad params, a session with a
  // running run (aborted first), and a write-only caller.
  async "sessions-delete"() {
    const { c } = await connected();
    const sk = key("del");
    await c.request("agent", { message: "to be deleted", sessionKey: sk, idempotencyKey: randomUUID(), label: `fake-rec del ${TAG}` }, { expectFinal: true });
    await c.request("sessions.delete", { key: sk });
    await c.request("sessions.delete", { key: sk });
    await c.request("sessions.list", { search: sk });
    await c.request("chat.history", { sessionKey: sk });
    await c.request("sessions.delete", { key: key("del-unknown") });
    await c.request("sessions.delete", { key: "agent:main:main" });
    await c.request("sessions.delete", { key: "main" });
    const keep = key("del-keep");
    await c.request("agent", { message: "keep transcript", sessionKey: keep, idempotencyKey: randomUUID() }, { expectFinal: true });
    await c.request("sessions.delete", { key: keep, deleteTranscript: false });
    await c.request("sessions.delete", {});
    await c.request("sessions.delete", { key: "" });
    await c.request("sessions.delete", { key: keep, bogus: 1 });
    // a running run: the gateway aborts it before deleting
    const busy = key("del-busy");
    const runId = randomUUID();
    const id = randomUUID();
    c.send({ type: "req", id, method: "agent", params: { message: "long run [[delay=5]]", sessionKey: busy, idempotencyKey: runId, timeout: 60 } });
    await c.waitFor(isAgentEv(runId, (p) => p.stream === "lifecycle" && p.data?.phase === "start"), 30000);
    await sleep(500);
    await c.request("sessions.delete", { key: busy });
    await c.waitFor((f) => f.type === "res" && f.id === id && f.payload?.status !== "accepted", 30000);
    await sleep(1000);
    await c.request("sessions.list", { search: busy });
    await c.request("agent.wait", { runId, timeoutMs: 1000 });
    await c.done();
    const w = await connected({ scopes: ["operator.write"] });
    await w.c.request("sessions.delete", { key: key("del-unknown") });
    if (V4) await w.c.request("sessions.delete", { key: key("del-unknown"), archivedOnly: true });
    await w.c.done();
  },
  // models.list with the "model-selection-policy" connect cap.
  async "models-caps"() {
    for (const caps of [["model-selection-policy"], ["tool-events", "model-selection-policy"]]) {
      const { c } = await connected({ caps });
      await c.request("models.list", {});
      await c.done();
    }
  },
  // config.get for an admin and for a read-only caller.
  async "config-get"() {
    for (const scopes of [["operator.admin"], ["operator.read"], ["operator.write"]]) {
      const { c } = await connected({ scopes });
      await c.request("config.get", {});
      await c.done();
    }
  },
  // Only with the "fallback" gateway config (primary down/down-echo, which
  // fails, falling back to fake/fake-mini); not part of --scenario all.
  async fallback() {
    const { c } = await connected();
    const sk = key("fallback");
    await c.request("agent", { message: "fall back please", sessionKey: sk, idempotencyKey: randomUUID() }, { expectFinal: true, timeoutMs: 180000 });
    await c.request("sessions.list", { search: sk });
    await c.request("agent", { message: "and again", sessionKey: sk, idempotencyKey: randomUUID() }, { expectFinal: true, timeoutMs: 180000 });
    await c.done();
  },
};
// The issue-12 scenarios need the gateways of --print-config (priced
// models, a fake model that understands [[reply:TEXT]]); "fallback" needs
// --print-config --fallback and --down-port. They are not part of "all":
// --scenario issue12 records the first group, --scenario fallback the last.
const groups = {
  issue12: ["usage-cost-warm", "usage-cost", "agent-modes", "agent-label", "subagent-session", "reply-markers",
    "agent-cost", "sessions-delete", "models-caps", "config-get"],
};
const onlyNamed = new Set([...groups.issue12, "fallback"]);

const order = Object.keys(scenarios).filter((s) => !onlyNamed.has(s));
const list = SCEN === "all" ? order : SCEN.split(",").flatMap((n) => groups[n] ?? [n]);
for (const s of list) {
  if (!scenarios[s]) {
    console.error("unknown scenario", s);
    process.exit(2);
  }
  scenario = s;
  console.log(`=== ${s}`);
  try {
    await scenarios[s]();
  } catch (e) {
    console.log(`scenario ${s} threw: ${e.message}`);
    log(0, "meta", { scenario: s, threw: e.message });
  }
  await sleep(200);
}
downServer?.close();
process.exit(0);
