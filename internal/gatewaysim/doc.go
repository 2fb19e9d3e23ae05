// Package gatewaysim is a simulated OpenClaw / Clawdbot gateway: an
// in-process WebSocket server that behaves like the real ones. It is a
// product feature — `clawgate --simulate` serves against it, so that every
// tool can be tried without an OpenClaw install — and the fake gateway of
// clawgate's tests, in the way fake-gcs-server's fakestorage serves both.
//
// Start starts a simulator on 127.0.0.1 (random port) that speaks either
// wire protocol 3 (Clawdbot, clawdbot 2026.1.24-3) or wire protocol 4
// (OpenClaw, openclaw 2026.9.6); New is the same for tests and panics on
// error, like httptest.NewServer:
//
//	srv := gatewaysim.New(gatewaysim.Options{Generation: gatewaysim.OpenClaw, Logf: t.Logf})
//	defer srv.Close()
//	client := mypkg.Dial(srv.URL(), "test-token")
//
// It depends on neither package schema nor package gateway: it is written
// from the recordings, so that a misunderstanding of the wire shared by
// clawgate's client and types cannot hide a bug.
//
// # Built from real frames
//
// Every payload the fake sends is built from frames recorded from the real
// gateways (module testdata/frames/*.jsonl; a trimmed extract is embedded from
// this package's testdata directory). Ids, run ids, session keys, reply text,
// token counts and timestamps are substituted; the rest is what the real
// gateway sent, so shapes, field names and error messages match the real
// servers. TestFakeMatchesRecordings replays the recorded requests against
// the fake and checks that.
//
// # What is imitated
//
//   - the handshake: connect.challenge, closed connect-param schemas per
//     generation (with the real ajv-style messages), client id/mode enums,
//     protocol range check (close 1002), shared-token / password auth (close
//     1008), device-less scope rules (v3: empty = admin; v4: empty = none,
//     Origin header or non-backend client = scopes silently cleared),
//     hello-ok with the negotiated protocol and policy, handshake timeout,
//     pre-auth and post-auth read limits (close 1009);
//   - methods status, health, models.list, sessions.list, sessions.patch,
//     agent (accepted + streamed agent/chat events + final), agent.wait,
//     chat.abort, (v4) sessions.abort, chat.history (the runs made on the
//     fake), sessions.delete, usage.cost and config.get, with
//     per-generation scope checks;
//   - the OpenClaw agent params modelRun (a run in a throwaway internal
//     session: no events, nothing stored), promptMode, bootstrapContextMode
//     and a per-run model; label (both generations: stored on the session);
//     Clawdbot's closed schema rejecting the OpenClaw-only keys;
//   - model prices (Model.Price) and what OpenClaw makes of them: costUsd
//     and usage.cost in final replies, estimatedCostUsd in sessions.list
//     rows, usage.cost on both generations; fallbacks (Options.Fallbacks) as
//     OpenClaw and Clawdbot report them; manualSelectionAllowed in
//     models.list for clients with the "model-selection-policy" cap;
//     other methods of the real method list answer UNAVAILABLE "not
//     implemented by the fake gateway", unknown methods "unknown method: X";
//   - an in-memory session store seeded from the recordings;
//   - tick events, event seq numbering (global on v3, per connection on v4),
//     shutdown events, abrupt stops and restarts.
//
// Not imitated: the OpenClaw task, chat.metadata.changed, sessions.changed
// and update.available events and the Clawdbot presence events (clients
// must ignore events they do not know anyway), tool events (the fake model
// never calls tools; Server.EmitAgentEvent can inject them), the
// device.pair.* and device.token.* methods.
//
// The fake model replies "FAKE-REPLY: you said <<message>>" like the lab's
// fake OpenAI server; "[[delay=N]]" in a message makes that run take N
// seconds, "[[reply:TEXT]]" (TEXT up to the first "]]") or
// "[[reply64:BASE64]]" makes the reply exactly TEXT.
//
// # Device identities and pairing
//
// A connect with a signed device is verified like the real gateways do it
// (device id = hex sha256 of the key, signedAt within the skew, the
// challenge nonce, an Ed25519 signature over the v3 or v2 payload on
// OpenClaw and v2 only on Clawdbot, covering exactly the token sent), then
// authenticated with the shared token or the device token, then paired:
// Options.Remote makes every client a remote peer that needs approval
// (NOT_PAIRED / PAIRING_REQUIRED, close 1008); on loopback OpenClaw's
// gateway-client/backend skips pairing and other devices are paired
// silently, as are all Clawdbot devices. A test plays the operator with
// PendingPairings, WaitPendingPairing, ApprovePairing, RejectPairing,
// RevokeDeviceToken, RotateDeviceToken and RemoveDevice, and inspects
// PairedDevices and Device.
//
// Scripted faults are added with Server.Handle (override a method),
// Server.Stall, Server.SilentHandshake, Server.NoHelloReply,
// Options.StartupUnavailable, Options.ClearScopes, Conn.WriteRaw and friends.
//
// A test inspects the fake with Runs (RunInfo: the agent params of each
// run, the model that served it, its reported cost), Sessions and Session,
// Requests and Connects, and waits for it with Server.WaitRuns, WaitRunOf,
// WaitRunDone, WaitAborted, WaitSession, WaitSessionGone, WaitConnects,
// WaitConnCount and WaitFor instead of polling: the fake wakes its waiters
// whenever what those report changes.
package gatewaysim
