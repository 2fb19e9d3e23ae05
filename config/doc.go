// Package config discovers how to reach the local OpenClaw / Clawdbot
// gateway: its WebSocket URL, the shared token or password, and an optional
// TLS certificate pin. It reads the same files and environment variables as
// the users' own CLI, so clawgate works with zero configuration wherever
// `openclaw gateway call …` (or `clawdbot gateway call …`) works.
//
// # Generations
//
// Two generations of the CLI are in the field and they disagree in details
// (see docs/protocol.md §4 and §5), so DiscoverContext first decides whose rules
// to apply and records the answer in Settings.Generation:
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
// the config is an error (clawdbot) or a warning (openclaw), and the order
// in which the token and the password are looked for (see Precedence).
// Variables from the state directory's .env file do not take part in this
// decision, because that file's location depends on it.
//
// # Precedence
//
// The gateway URL, the port, the state directory and the config file: an
// explicit Overrides field (a command-line flag) wins, then the environment,
// then the config file, then the default, as in both CLIs (clawdbot has no
// URL variable; OPENCLAW_GATEWAY_URL is honoured under both generations).
//
// The token and the password follow the user's own CLI exactly, so that
// clawgate authenticates wherever `openclaw gateway call` (or `clawdbot
// gateway call`) does, and a variable pasted into an MCP client's settings
// cannot override a config file that already works unless the CLI would let
// it. Overrides.Token / Overrides.Password always win. After them, "env"
// below means OPENCLAW_GATEWAY_TOKEN / OPENCLAW_GATEWAY_PASSWORD or their
// CLAWDBOT_* twins (OPENCLAW_* first), from the environment or the state
// directory's .env:
//
//	generation mode    token                                   password
//	openclaw   local   auth.token, env, remote.token (1)       auth.password, env, remote.password (1)(2)
//	openclaw   remote  remote.token, env, auth.token           env, remote.password, auth.password
//	clawdbot   local   env, auth.token                         env, auth.password
//	clawdbot   remote  remote.token                            env, remote.password
//
// (auth.token is gateway.auth.token, remote.token gateway.remote.token, and
// so on.) (1) Only when the gateway.auth key holds nothing at all: a SecretRef
// clawgate cannot resolve, or a value with an unresolved ${VAR}, still blocks
// the gateway.remote fallback, as in the openclaw CLI. (2) Not with
// gateway.auth.mode "trusted-proxy".
//
// Sources: openclaw 2026.9.6 docs/gateway/remote.md, section "Credential
// precedence", and its src/gateway/credentials.ts (bundled in dist/); clawdbot
// 2026.1.24 dist/gateway/call.js. credOrders in credentials.go cites each
// line.
//
// An explicit URL never reuses config-file credentials: with Overrides.URL
// (--url) or OPENCLAW_GATEWAY_URL only the flag, then the environment, are
// used, and gateway.remote.tlsFingerprint is not applied. For
// OPENCLAW_GATEWAY_URL this is the openclaw CLI's rule. With --url the
// openclaw CLI accepts only explicit --token/--password; clawgate still reads
// the environment there so that a secret need not be on a command line
// (MCP clients pass environment variables more easily than safe arguments).
// clawdbot 2026.1.24 would reuse config credentials even with --url;
// clawgate does not send them to a gateway the user named explicitly.
//
// A placeholder that could not be resolved is never sent as a credential.
// Warnings say when a value before the winner could not be used (a SecretRef
// with source file, exec or store, an env SecretRef to an unset variable, an
// unresolved ${VAR}), and when the environment and the config file hold
// different values, which is the usual cause of a "token mismatch". Report
// says, per credential, where the value came from, the order that made it win
// and which other sources hold the same or a different value.
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
// gateway.remote.url, and the credentials are looked for in the remote-mode
// order above.
//
// The URL, wherever it comes from, is held to the gateway client's URL and
// transport rules (package gateway, url.go: gateway.CheckURL,
// gateway.Plaintext, gateway.URLShown), which are stated there once:
// anything but a ws:// or wss:// URL with a host is an error naming the
// URL's source, plain ws:// to a host that is not loopback draws a warning
// (the client then refuses to send credentials there unless allowed), and
// Report shows the URL without user info, query and fragment.
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
// resolved here: such a value still takes its place in the order, and a
// Warning asks for an explicit token when it would have been used.
//
// <stateDir>/.env is read as OpenClaw reads it: with the parse() of dotenv
// 17.4.2 (OpenClaw 2026.9.6's dependency), keeping only names of letters,
// digits and underscores that do not start with a digit. So an unquoted
// value ends at '#', an unclosed quote makes a one-line literal (the lines
// after it are read as usual), quoted values may span lines, and in double
// quotes only \n and \r are escapes. A Warning names (by number, never by
// content) each line that is not an assignment or whose name is dropped.
// The file never overrides the real environment. Unlike the CLI, ./.env in
// the current directory is NOT read: clawgate is started by editors from
// arbitrary directories, and a stray .env there must not redirect it to
// another gateway.
//
// Discovery reads only regular files. A config file, included file or .env
// that is a FIFO (which would block the reader until someone writes to
// it), a device such as /dev/zero (which never ends), a socket or a
// directory is refused with an error naming it (config and included files)
// or ignored with a Warning (.env). Each file is checked before it is
// opened and again after (fstat), and opened with O_NONBLOCK, so that a
// FIFO swapped in meanwhile cannot block the open either. DiscoverContext
// checks its context before each file and between chunks of one, and
// returns as soon as the context ends even if a file system call hangs.
//
// # Limits
//
// Hostile or broken files cannot make discovery use unbounded memory or
// time, or overflow the stack. An error (a Warning for the .env file)
// names the limit, the file and what to do:
//
//   - a config file or included file: at most 2 MiB, OpenClaw's own limit
//     for an included file (MAX_INCLUDE_FILE_BYTES in its
//     src/config/includes.ts); real configs are a few kilobytes;
//   - the config and everything it includes: at most 100 files and 4 MiB,
//     counting a file each time it is included (an $include fan-out of 11
//     files each including the next 4 times is 4^10 files);
//   - nesting: at most 64 levels of objects and arrays in one file, checked
//     with a cheap scan of the brackets before the JSON5 parser (which
//     recurses once per level) sees the text; the error gives the file,
//     line and column of the bracket that goes too deep. OpenClaw's own
//     configs nest fewer than 10 levels;
//   - ${VAR} substitution: the substituted values add up to at most 1 MiB
//     (a 1 MB variable referenced 4,000 times is 4 GB); ${VAR} is meant
//     for tokens and URLs;
//   - warnings about unset ${VAR}s: the first 20, then one that counts the
//     rest; key paths in warnings and errors are cut to 200 bytes;
//   - .env: at most 1 MiB, OpenClaw's MAX_DOTENV_FILE_BYTES; a larger file
//     is ignored with a Warning, as OpenClaw ignores it.
//
// The JSON5 parser allocates up to about 46 bytes per byte of input (an
// array of zeros), so whatever the files hold, one discovery allocates
// about 200 MB at worst (most of it garbage at once), and a few hundred
// kilobytes for a real config.
//
// # Permissions
//
// Another local user who can change a file that discovery reads could
// point the gateway URL at a listener of their own and receive the token
// that clawgate takes from a flag or the environment. So discovery checks,
// on POSIX systems, the config file and every included file, the .env
// file, the state directory (even when it holds no file: one could be put
// there), and every directory on the way to each of them (above the path
// as written and above the path its symbolic links resolve to, up to /).
// A file is suspect if it is writable by its group or by others (mode &
// 022), or owned by someone other than the current user and root; a
// directory likewise, except that a directory with the sticky bit (such
// as /tmp) may be writable by others, because they cannot replace the
// files of others in it. These are the rules OpenClaw applies to the
// paths it trusts for secrets (src/secrets/trusted-plan-path.ts:
// assertTrustedPathChain; @openclaw/fs-safe's readSecureFile also refuses
// writable and foreign-owned secret files), and its doctor warns about
// the same state directory and config file modes. Readable-by-others is
// not reported (OpenClaw's own doctor does that).
//
// Each suspect path gets a Warning that names it, its mode or owner, and
// the fix: chmod 600 for a file, chmod 700 for the state directory, chmod
// go-w for another directory, sudo chown for a foreign owner. The files
// are still read and their settings used, except one: when the gateway
// URL depends on a suspect file, no credential is sent to it. The URL
// depends on the config file (which, for this rule, includes every
// included file, because merged keys do not remember their file) when it
// is gateway.remote.url, or the loopback URL whose port or wss:// comes
// from gateway.port or gateway.tls.enabled; on the .env file when it comes
// from OPENCLAW_GATEWAY_URL or OPENCLAW_GATEWAY_PORT found there, or from
// a ${VAR} in those config keys that the .env file supplied, or when the
// .env file named the config file. A URL from --url, from the real
// environment or the default depends on no file. Then Token and Password
// are left unset, whatever their source (a flag, the environment, the
// .env file or the config itself: a credential in a private included file
// would otherwise go to a URL that another user wrote into the including
// file), Settings.CredentialsWithheld says which credentials were withheld
// and why, the same sentence is a Warning, and Report's token and password
// lines say "withheld". The URL stays as found, so that doctor shows it
// and a connection fails with the gateway's own authentication error.
// Giving the URL explicitly (--url or OPENCLAW_GATEWAY_URL) or fixing the
// permissions restores the credentials. On Windows nothing is checked:
// clawgate does not inspect ACLs.
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
