package schema

// Tool inputs and outputs: the public interface of clawgate's MCP tools.
// Field names are snake_case and stable; descriptions are written for the
// model that calls the tools. The JSON Schemas of the tools are generated
// from these types (see ToolSchema).

// GatewayStatusInput takes no arguments.
type GatewayStatusInput struct{}

// GatewayStatusOutput says whether the gateway is reachable and how full the
// main session's context is.
type GatewayStatusOutput struct {
	Connected     bool               `json:"connected" jsonschema:"description=True when clawgate is connected to the gateway and the handshake succeeded."`
	URL           string             `json:"url" jsonschema:"description=The gateway WebSocket URL clawgate uses (never includes credentials).,example=ws://127.0.0.1:18789"`
	Protocol      int                `json:"protocol,omitempty" jsonschema:"description=Negotiated gateway protocol: 3 is Clawdbot 2026.1.x and 4 is OpenClaw 2026.9.x."`
	ServerVersion string             `json:"server_version,omitempty" jsonschema:"description=Gateway version as it reports itself (Clawdbot may say dev).,example=2026.9.6"`
	Scopes        []string           `json:"scopes,omitempty" jsonschema:"description=Operator scopes of the connection.,example=operator.admin"`
	ReadOnly      bool               `json:"read_only" jsonschema:"description=True when clawgate runs with --read-only: only read tools are available."`
	Error         string             `json:"error,omitempty" jsonschema:"description=Why the gateway is not usable and what to do about it; set when connected is false."`
	MainSession   *MainSessionStatus `json:"main_session,omitempty" jsonschema:"description=The gateway's main session and how full its context window is."`
	Defaults      *StatusDefaultsOut `json:"defaults,omitempty" jsonschema:"description=The gateway's default model and context size."`
	SessionCount  *int               `json:"session_count,omitempty" jsonschema:"description=Number of sessions the gateway knows."`
}

// MainSessionStatus is the main session's model and context use.
type MainSessionStatus struct {
	Key           string   `json:"key" jsonschema:"description=Session key.,example=agent:main:main"`
	Model         string   `json:"model,omitempty" jsonschema:"description=Model of the session as provider/model when known.,example=anthropic/claude-sonnet-4-5"`
	ContextUsed   int64    `json:"context_used" jsonschema:"description=Tokens in the session's context (as the gateway counts them)."`
	ContextWindow int64    `json:"context_window,omitempty" jsonschema:"description=Context window of the session's model in tokens."`
	PercentUsed   *float64 `json:"percent_used,omitempty" jsonschema:"description=context_used as a percentage of context_window."`
}

// StatusDefaultsOut are the gateway's defaults as gateway_status reports them.
type StatusDefaultsOut struct {
	Model         string `json:"model,omitempty" jsonschema:"description=Default model as provider/model.,example=anthropic/claude-opus-4-5"`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window of the default model in tokens."`
}

// ListSessionsInput filters list_sessions.
type ListSessionsInput struct {
	Limit         int    `json:"limit,omitempty" jsonschema:"description=Maximum number of sessions to return\\, most recently updated first (default 20).,minimum=1,maximum=500,default=20"`
	ActiveMinutes int    `json:"active_minutes,omitempty" jsonschema:"description=Only sessions updated within this many minutes.,minimum=1"`
	Search        string `json:"search,omitempty" jsonschema:"description=Only sessions whose key\\, label or title contains this text.,example=subagent"`
	AgentID       string `json:"agent_id,omitempty" jsonschema:"description=Only sessions of this agent.,example=main"`
}

// ListSessionsOutput is the result of list_sessions.
type ListSessionsOutput struct {
	Count    int                `json:"count" jsonschema:"description=Number of sessions returned."`
	Sessions []SessionInfo      `json:"sessions" jsonschema:"description=Sessions\\, most recently updated first."`
	Defaults SessionDefaultsOut `json:"defaults" jsonschema:"description=The gateway's default model and context size."`
}

// SessionInfo is one session in list_sessions.
type SessionInfo struct {
	Key           string   `json:"key" jsonschema:"description=Session key; pass it to patch_session_model or ask_subagent.,example=agent:main:main"`
	SessionID     string   `json:"session_id,omitempty" jsonschema:"description=Current transcript id of the session."`
	Kind          string   `json:"kind,omitempty" jsonschema:"description=direct\\, group\\, global or unknown."`
	Label         string   `json:"label,omitempty" jsonschema:"description=Human label or display name."`
	Model         string   `json:"model,omitempty" jsonschema:"description=Model as provider/model; model_source says where it comes from.,example=anthropic/claude-sonnet-4-5"`
	ModelProvider string   `json:"model_provider,omitempty" jsonschema:"description=Provider of the model.,example=anthropic"`
	ModelSource   string   `json:"model_source,omitempty" jsonschema:"description=override: the session's own model override (set by patch_session_model or the user); default: the gateway's default model; last_run: the model of the session's last run (Clawdbot lists no overrides\\, so an override set since then is not shown).,enum=override,enum=default,enum=last_run"`
	ContextUsed   int64    `json:"context_used" jsonschema:"description=Tokens in the session's context (as the gateway counts them)."`
	ContextWindow int64    `json:"context_window,omitempty" jsonschema:"description=Context window of the session's model in tokens."`
	PercentUsed   *float64 `json:"percent_used,omitempty" jsonschema:"description=context_used as a percentage of context_window."`
	UpdatedAt     string   `json:"updated_at,omitempty" jsonschema:"description=Last update (RFC 3339).,example=2026-11-25T10:00:00Z"`
}

// SessionDefaultsOut are the gateway's defaults as list_sessions reports them.
type SessionDefaultsOut struct {
	Model         string `json:"model,omitempty" jsonschema:"description=Default model as provider/model."`
	ModelProvider string `json:"model_provider,omitempty" jsonschema:"description=Provider of the default model."`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window of the default model in tokens."`
}

// PatchSessionModelInput sets or clears a session's model override.
type PatchSessionModelInput struct {
	SessionKey string  `json:"session_key" jsonschema:"description=Key of an existing session (from list_sessions). A key that does not exist is refused with the closest existing keys\\, unless create is true.,minLength=1,example=agent:main:subagent"`
	Model      *string `json:"model" jsonschema:"description=The model to use: provider/model (see list_models)\\, or an alias the gateway knows. null or empty string clears the override so the session uses the gateway default.,example=anthropic/claude-sonnet-4-5,nullable"`
	Create     bool    `json:"create,omitempty" jsonschema:"description=Create the session when session_key does not exist yet (default false: an unknown key is an error).,default=false"`
}

// PatchSessionModelOutput is the session's model after the change.
type PatchSessionModelOutput struct {
	SessionKey string  `json:"session_key" jsonschema:"description=Canonical key of the changed session."`
	Model      *string `json:"model" jsonschema:"description=The resolved provider/model the session now uses\\, or null when the override was cleared.,nullable"`
}

// AskSubagentInput describes a delegated subtask.
type AskSubagentInput struct {
	Message           string `json:"message" jsonschema:"description=The complete task for the subagent. It sees nothing of your conversation\\, so include every fact it needs.,minLength=1,example=Summarise the three main risks in this design: ..."`
	SessionKey        string `json:"session_key,omitempty" jsonschema:"description=Session to run in (default: a dedicated agent:<agent>:subagent session). Never a main session (agent:<id>:main of any agent).,example=agent:main:subagent"`
	Model             string `json:"model,omitempty" jsonschema:"description=Run on this model (provider/model or alias); it is set on the session before the run. Use a cheaper model for simple work.,example=anthropic/claude-sonnet-4-5"`
	TimeoutSeconds    int    `json:"timeout_seconds,omitempty" jsonschema:"description=Wall-clock limit of this call in seconds (default: clawgate's --timeout\\, 55 unless set). When it passes the run is aborted and the call returns an error within one more second. Many MCP clients stop waiting for a tool call after 60 s: raise it only if yours waits longer.,minimum=1,maximum=86400,default=55"`
	Thinking          string `json:"thinking,omitempty" jsonschema:"description=Thinking level for this run\\, if the model supports it.,example=low"`
	AgentID           string `json:"agent_id,omitempty" jsonschema:"description=Agent to run (default: the gateway's default agent).,example=main"`
	ExtraSystemPrompt string `json:"extra_system_prompt,omitempty" jsonschema:"description=Extra instructions appended to the agent's system prompt for this run."`
}

// AskSubagentOutput is the subagent's final answer.
type AskSubagentOutput struct {
	Text       string   `json:"text" jsonschema:"description=The final answer: all reply texts joined."`
	RunID      string   `json:"run_id" jsonschema:"description=Gateway run id."`
	Status     string   `json:"status" jsonschema:"description=Run status reported by the gateway (ok).,example=ok"`
	SessionKey string   `json:"session_key" jsonschema:"description=Session the run used."`
	Model      string   `json:"model,omitempty" jsonschema:"description=Model that served the run as provider/model.,example=anthropic/claude-sonnet-4-5"`
	Provider   string   `json:"provider,omitempty" jsonschema:"description=Provider that served the run.,example=anthropic"`
	Usage      UsageOut `json:"usage" jsonschema:"description=Tokens the run used."`
	DurationMs int64    `json:"duration_ms" jsonschema:"description=Wall time of the run in milliseconds."`
}

// UsageOut counts the tokens of a run.
type UsageOut struct {
	Input  int64 `json:"input"`
	Output int64 `json:"output"`
	Total  int64 `json:"total"`
}

// ListModelsInput optionally filters list_models.
type ListModelsInput struct {
	Provider string `json:"provider,omitempty" jsonschema:"description=Only models of this provider.,example=anthropic"`
}

// ListModelsOutput lists the models the gateway offers.
type ListModelsOutput struct {
	Models []ModelOut `json:"models" jsonschema:"description=Models; pass id to patch_session_model or ask_subagent."`
}

// ModelOut is one model in list_models.
type ModelOut struct {
	ID            string `json:"id" jsonschema:"description=provider/model key.,example=anthropic/claude-sonnet-4-5"`
	Name          string `json:"name,omitempty" jsonschema:"description=Display name."`
	Provider      string `json:"provider,omitempty" jsonschema:"description=Provider id."`
	Alias         string `json:"alias,omitempty" jsonschema:"description=Short name the gateway also accepts for this model.,example=sonnet"`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window in tokens."`
}
