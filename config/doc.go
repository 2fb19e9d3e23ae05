// Package config discovers how to reach the local OpenClaw / Clawdbot
// gateway: its WebSocket URL, the shared token or password, and an optional
// TLS certificate pin. It reads the same files and environment variables as
// the users' own CLI, so clawgate works with zero configuration wherever
// `openclaw gateway call …` (or `clawdbot gateway call …`) works.
//
// # Generations
//
// Two generations of the CLI are in the field and they disagree in details
// (see PROTOCOL.md §4 and §5), so Discover first decides whose rules to apply
// and records the answer in Settings.Generation:
//
//  1. "openclaw" if any OPENCLAW_* variable that this package knows is set
//     in the real environment (OPENCLAW_GATEWAY_URL/_TOKEN/_PASSWORD/_PORT,
//     OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH, OPENCLAW_HOME,
//     OPENCLAW_PROFILE), or ~/.openclaw exists, or the config file that would
//     be read is named openclaw.json;
//  2. otherwise "clawdbot" if a CLAWDBOT_* variable is set
//     (CLAWDBOT_GATEWAY_TOKEN/_PASSWORD/_PORT, CLAWDBOT_STATE_DIR,
//     CLAWDBOT_CONFIG_PATH), or ~/.clawdbot/clawdbot.json exists, or the
//     config file that would be read is named clawdbot.json;
//  3. otherwise "openclaw".
//
// The generation decides: the state directory, whether a missing ${VAR} in
// the config is an error (clawdbot) or a warning (openclaw), and which
// "the CLI itself would do something else" warnings are produced.
// Variables from the state directory's .env file do not take part in this
// decision, because that file's location depends on it.
//
// # Precedence
//
// For every setting: an explicit Overrides field (a command-line flag) wins,
// then the environment, then the config file, then the default. This is the
// product rule for both generations. Where the real CLI orders things
// differently (openclaw 2026.9.6 reads gateway.auth.token before
// OPENCLAW_GATEWAY_TOKEN; clawdbot 1.24 ignores the environment for the token
// in remote mode) and the two candidates hold different values, a Warning
// says which value was used and which one the CLI would have preferred.
//
// Environment variables: OPENCLAW_GATEWAY_URL, OPENCLAW_GATEWAY_TOKEN,
// OPENCLAW_GATEWAY_PASSWORD, OPENCLAW_GATEWAY_PORT (a port, or host:port of
// which only the port is used), OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH,
// OPENCLAW_HOME (replaces ~), OPENCLAW_PROFILE (selects ~/.openclaw-<name>;
// "dev" also implies port 19001), and the legacy CLAWDBOT_GATEWAY_TOKEN,
// CLAWDBOT_GATEWAY_PASSWORD, CLAWDBOT_GATEWAY_PORT, CLAWDBOT_STATE_DIR and
// CLAWDBOT_CONFIG_PATH. Legacy variables are honoured under both generations,
// but the OPENCLAW_* twin wins when both are set. Values are trimmed and an
// empty value counts as unset.
//
// In remote mode (gateway.mode "remote") the URL comes from
// gateway.remote.url and the credentials from gateway.remote.token /
// gateway.remote.password. An explicit URL (Overrides.URL or
// OPENCLAW_GATEWAY_URL) never picks up credentials from the config file;
// credentials from flags and the environment still apply.
//
// # Files
//
// The state directory is $OPENCLAW_STATE_DIR, else ~/.openclaw-<profile>,
// else $CLAWDBOT_STATE_DIR (legacy), else ~/.openclaw if it exists, else
// ~/.clawdbot if it exists, else ~/.openclaw. Under clawdbot rules it is
// $CLAWDBOT_STATE_DIR or ~/.clawdbot.
//
// The config file is Overrides.ConfigPath, else $OPENCLAW_CONFIG_PATH, else
// $CLAWDBOT_CONFIG_PATH (an explicitly named file must exist), else the first
// existing of <stateDir>/{openclaw.json,clawdbot.json},
// ~/.openclaw/{openclaw.json,clawdbot.json} and
// ~/.clawdbot/{openclaw.json,clawdbot.json}. With OPENCLAW_PROFILE set, only
// <stateDir>/openclaw.json is considered, as the openclaw CLI does. No config
// file at all is fine: defaults apply.
//
// The file is JSON5 and may use "$include" (a path or an array of paths,
// relative to the including file, at most 10 levels deep, cycles refused)
// and ${VAR} substitution in string values ($${VAR} for a literal). ${VAR}
// is looked up in the environment, then in the state directory's .env file.
// Token and password fields may be SecretRef objects
// {source:"env", id:"VAR"}; other sources (file, exec, store) cannot be
// resolved here and produce a Warning asking for an explicit token.
//
// <stateDir>/.env is read (KEY=VALUE, export KEY=VALUE, quotes, comments) and
// never overrides the real environment. Unlike the CLI, ./.env in the current
// directory is NOT read: clawgate is started by editors from arbitrary
// directories, and a stray .env there must not redirect it to another gateway.
//
// # Secrets
//
// Token and Password are marked Secret. Settings and Setting implement
// String, GoString, fmt.Formatter, slog.LogValuer and json.Marshaler so that
// fmt (any verb), slog and encoding/json never show their values; Report
// renders where each setting came from for a doctor command. Errors and
// warnings never contain secret values. Read Setting.Value directly to use a
// secret. Note that fmt cannot call these methods for a Settings stored in an
// unexported struct field, so do not print such containers with %v.
package config
