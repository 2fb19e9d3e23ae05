package gatewaysim

import "time"

// profile holds everything that differs between the two gateway generations,
// apart from the recorded payloads (see templates).
type profile struct {
	gen              Generation
	protocol         int
	recording        string // embedded extract, testdata/<name>.jsonl
	maxPayload       int
	preauthLimit     int // largest frame before hello-ok
	handshakeTimeout time.Duration
	val              validator

	frame, connect, agent, sessionsList, sessionsPatch, modelsList *schema
	chatAbort, sessionsAbort, agentWait, sessionsDelete            *schema
}

var (
	clawdbotClientIDs = []string{"webchat-ui", "clawdbot-control-ui", "webchat", "cli", "gateway-client",
		"clawdbot-macos", "clawdbot-ios", "clawdbot-android", "node-host", "test", "fingerprint", "clawdbot-probe"}
	openclawClientIDs = []string{"webchat-ui", "openclaw-control-ui", "openclaw-browser-copilot", "openclaw-tui",
		"webchat", "cli", "gateway-client", "openclaw-macos", "openclaw-linux", "openclaw-ios", "openclaw-watchos",
		"openclaw-android", "node-host", "openclaw-worker", "test", "fingerprint", "openclaw-probe"}
	clawdbotModes = []string{"webchat", "cli", "ui", "backend", "node", "probe", "test"}
	openclawModes = []string{"webchat", "cli", "ui", "backend", "node", "worker", "probe", "test"}
)

// profileFor returns the profile of a generation.
func profileFor(g Generation) *profile {
	v4 := g == OpenClaw
	pr := &profile{gen: g}
	if v4 {
		pr.protocol = 4
		pr.recording = "openclaw-2026.9.6"
		pr.maxPayload = 25 << 20
		pr.preauthLimit = 64 << 10
		pr.handshakeTimeout = 15 * time.Second
		pr.val = validator{firstOnly: true, not: "not"}
	} else {
		pr.protocol = 3
		pr.recording = "clawdbot-2026.1.24-3"
		pr.maxPayload = 512 << 10
		pr.preauthLimit = pr.maxPayload
		pr.handshakeTimeout = 10 * time.Second
		pr.val = validator{not: "NOT"}
	}

	// Request frame: {type:"req", id, method, params?}; v4 adds traceparent, expectedProfileId.
	pr.frame = objS([]string{"type", "id", "method"},
		p("type", constS("req")), p("id", neStr()), p("method", neStr()), p("params", anyS()))
	if v4 {
		pr.frame = pr.frame.with(p("traceparent", &schema{kind: sString, maxLen: 128}), p("expectedProfileId", strS()))
	}

	ids, modes := clawdbotClientIDs, clawdbotModes
	if v4 {
		ids, modes = openclawClientIDs, openclawModes
	}
	client := objS([]string{"id", "version", "platform", "mode"},
		p("id", enumS(ids, !v4)), p("displayName", neStr()), p("version", neStr()), p("platform", neStr()),
		p("deviceFamily", neStr()), p("modelIdentifier", neStr()), p("mode", enumS(modes, !v4)), p("instanceId", neStr()))
	auth := objS(nil, p("token", strS()), p("password", strS()))
	deviceRequired := []string{"id", "publicKey", "signature", "signedAt"}
	if v4 {
		client = client.with(p("buildId", neStr()), p("timeZone", neStr()))
		auth = auth.with(p("deviceToken", strS()), p("bootstrapToken", strS()),
			p("approvalRuntimeToken", strS()), p("agentRuntimeIdentityToken", strS()))
		deviceRequired = append(deviceRequired, "nonce")
	}
	device := objS(deviceRequired, p("id", neStr()), p("publicKey", neStr()), p("signature", neStr()),
		p("signedAt", intS()), p("nonce", neStr()))
	pr.connect = objS([]string{"minProtocol", "maxProtocol", "client"},
		p("minProtocol", intMin(1)), p("maxProtocol", intMin(1)), p("client", client),
		p("caps", arrOf(neStr())), p("commands", arrOf(neStr())), p("permissions", openObj()),
		p("pathEnv", strS()), p("role", neStr()), p("scopes", arrOf(neStr())), p("device", device),
		p("auth", auth), p("locale", strS()), p("userAgent", strS()))
	if v4 {
		pr.connect = pr.connect.with(p("computerUse", anyS()), p("workerRuns", anyS()), p("modelCatalog", anyS()))
	}

	pr.agent = objS([]string{"message", "idempotencyKey"},
		p("message", neStr()), p("agentId", neStr()), p("sessionId", neStr()), p("sessionKey", neStr()),
		p("thinking", strS()), p("deliver", boolS()), p("attachments", arrOf(anyS())), p("channel", strS()),
		p("replyChannel", strS()), p("to", strS()), p("replyTo", strS()), p("accountId", strS()),
		p("replyAccountId", strS()), p("threadId", anyS()), p("groupId", strS()), p("groupChannel", strS()),
		p("groupSpace", strS()), p("timeout", intMin(0)), p("lane", strS()), p("extraSystemPrompt", strS()),
		p("label", &schema{kind: sString, minLen: 1, maxLen: 64}), p("spawnedBy", strS()), p("idempotencyKey", neStr()))
	if v4 {
		// Literal unions: ajv reports "must be equal to constant; must match a schema in anyOf" (recorded).
		pr.agent = pr.agent.without("spawnedBy", "label").with(p("provider", neStr()), p("model", neStr()),
			p("expectedExistingSessionId", neStr()), p("bestEffortDeliver", boolS()), p("cwd", strS()),
			p("modelRun", boolS()), p("promptMode", enumS([]string{"full", "minimal", "none"}, true)),
			p("bootstrapContextMode", enumS([]string{"full", "lightweight"}, true)),
			p("internalEvents", anyS()), p("inputProvenance", anyS()), p("sessionEffects", anyS()),
			p("voiceWakeTrigger", anyS()), p("label", &schema{kind: sString, minLen: 1, maxLen: 512}))
	}

	pr.sessionsList = objS(nil,
		p("limit", intMin(1)), p("activeMinutes", intMin(1)), p("includeGlobal", boolS()),
		p("includeUnknown", boolS()), p("includeDerivedTitles", boolS()), p("includeLastMessage", boolS()),
		p("label", strS()), p("spawnedBy", strS()), p("agentId", strS()), p("search", strS()))
	if v4 {
		pr.sessionsList = pr.sessionsList.with(p("offset", intMin(0)), p("activeOnly", boolS()),
			p("requireLastInteraction", boolS()), p("sortBy", strS()), p("excludeSubagents", boolS()),
			p("excludeCron", boolS()), p("excludeSystem", boolS()), p("configuredAgentsOnly", boolS()),
			p("includeActivitySummary", boolS()), p("projectId", strS()), p("workspaceDir", strS()),
			p("group", anyS()), p("pinned", boolS()), p("boardFace", anyS()), p("hasBoard", boolS()),
			p("creatorId", strS()), p("ownerId", strS()), p("ownerFirst", boolS()), p("involvingMe", boolS()),
			p("profileRelation", anyS()), p("involvingProfileId", strS()), p("includePeople", boolS()),
			p("archived", anyS()))
	}

	ns := func() *schema { return nullable(neStr()) }
	pr.sessionsPatch = objS([]string{"key"}, p("key", neStr()),
		p("label", ns()), p("thinkingLevel", ns()), p("verboseLevel", ns()), p("reasoningLevel", ns()),
		p("responseUsage", ns()), p("elevatedLevel", ns()), p("execHost", ns()), p("execSecurity", ns()),
		p("execAsk", ns()), p("execNode", ns()), p("model", ns()), p("spawnedBy", ns()),
		p("sendPolicy", ns()), p("groupActivation", ns()))
	if v4 {
		extra := []string{"agentId", "expectedSessionId", "expectedLifecycleRevision", "expectedPermissionMode",
			"expectedMarkedUnreadAt", "autoLabel", "icon", "color", "category", "boardFace", "boardPresentation",
			"statusNote", "attention", "ttlMinutes", "archived", "pinned", "unread", "contextWindow", "fastMode",
			"toolOverrides", "traceLevel", "permissionMode", "sandboxMode", "nativeRuntimeConsent", "agentRuntime",
			"completionOwnerSessionKey", "inheritedToolAllow", "inheritedToolDeny"}
		pr.sessionsPatch = pr.sessionsPatch.without("spawnedBy")
		for _, k := range extra {
			pr.sessionsPatch = pr.sessionsPatch.with(p(k, anyS()))
		}
	}

	pr.modelsList = objS(nil)
	if v4 {
		pr.modelsList = pr.modelsList.with(p("view", strS()), p("agentId", strS()), p("sessionKey", strS()),
			p("provider", strS()), p("includeDetails", boolS()))
	}
	pr.chatAbort = objS([]string{"sessionKey"}, p("sessionKey", neStr()), p("runId", neStr()))
	if v4 {
		pr.chatAbort = pr.chatAbort.with(p("agentId", neStr()))
	}
	pr.sessionsAbort = objS(nil, p("key", neStr()), p("runId", neStr()), p("agentId", neStr()), p("clearQueued", boolS()))
	pr.agentWait = objS([]string{"runId"}, p("runId", neStr()), p("timeoutMs", intMin(0)))
	pr.sessionsDelete = objS([]string{"key"}, p("key", neStr()), p("deleteTranscript", boolS()))
	if v4 {
		pr.sessionsDelete = pr.sessionsDelete.with(p("agentId", neStr()), p("expectedSessionId", neStr()),
			p("expectedLifecycleRevision", neStr()), p("expectedSessionUpdatedAt", &schema{kind: sNumber}),
			p("emitLifecycleHooks", boolS()), p("archivedOnly", boolS()))
	}
	return pr
}
