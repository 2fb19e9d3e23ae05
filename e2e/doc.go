// Package e2e holds clawgate's end-to-end tests against REAL gateways
// (OpenClaw 2026.9.6 and Clawdbot 2026.1.24-3, installed from the npm
// registry), built only with the e2e tag:
//
//	bash e2e/run.sh                  # the one command; extra args go to go test
//	go test -tags e2e -v ./e2e/      # the same without the wrapper
//
// TestMain builds the clawgate binary, installs Node 24 and both gateways
// into ~/.cache/clawgate-e2e (reused by later runs), starts each gateway on
// a loopback port with token auth in its own temporary HOME and state
// directory against the in-process fake model server (package fakemodel),
// and stops everything it started when the tests end, fail or are
// interrupted. The tests spawn the clawgate binary and speak MCP to it over
// stdio (package internal/mcptest), and also drive it with the official MCP
// Inspector CLI and the MCP conformance suite.
//
// Environment: CLAWGATE_E2E_CACHE (cache dir), CLAWGATE_E2E_PRODUCTS
// (openclaw,clawdbot), CLAWGATE_E2E_WORK (parent of the run's temporary
// directory), CLAWGATE_E2E_KEEP=1 (keep that directory), CLAWGATE_E2E_RACE=0
// (build clawgate without -race), CLAWGATE_E2E_CLIENTS=0 (skip the Node MCP
// clients). See README.md in this directory.
package e2e
