package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Targets of issue #5.
const (
	targetCold        = 20 * time.Millisecond
	targetWarmAdded   = 300 * time.Microsecond
	targetCLISpeedup  = 100.0
	targetConcRatio   = 0.80
	targetAgentAdded  = time.Millisecond
	targetRSSKiB      = 20 * 1024
	placeholderAbsent = "–"
)

// verdict is PASS or MISS.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**MISS**"
}

// header prints a report's heading, titled title, and the line that says
// what ran where and when.
func (ri *runInfo) header(w io.Writer, title string, cfg *config) {
	label := cfg.label
	if label == "" {
		label = "OpenClaw " + ri.gatewayVersion
		if ri.protocol == 3 {
			label = fmt.Sprintf("Clawdbot (server.version %q)", ri.gatewayVersion)
		}
	}
	fmt.Fprintf(w, "\n### %s: %s (protocol %d) at %s\n\n", title, label, ri.protocol, cfg.url)
	took := "unfinished"
	if !ri.finished.IsZero() {
		took = ri.finished.Sub(ri.started).Round(time.Second).String()
	}
	fmt.Fprintf(w, "clawgate %s, %s %s/%s, %d CPUs (%s), %s UTC, took %s; load average %s at the start, %s at the end\n\n",
		ri.clawgateVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(),
		ri.started.UTC().Format("2006-01-02 15:04"), took, ri.loadStart, orAbsent(ri.loadEnd))
}

// report prints the results as a Markdown table with a header describing
// the run. Rows whose measurement did not run are left out.
func (r *runner) report(w io.Writer) {
	res := &r.res
	cfg := r.cfg
	res.header(w, "clawgate side by side", cfg)
	fmt.Fprintln(w, "| | measurement | clawgate | baseline | clawgate vs baseline | target | |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	row := func(num, what, ours, base, cmp, target, v string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", num, what, ours, base, cmp, target, v)
	}
	cliLabel := res.cliName
	if cliLabel == "" {
		cliLabel = "CLI"
	}
	cliCmd := fmt.Sprintf("`%s gateway call sessions.list --json --params '{\"limit\":%d}'`", cliLabel, cfg.limit)

	if len(res.cold) > 0 {
		row("1", fmt.Sprintf("cold start: spawn → `initialize` response, n=%d", len(res.cold)),
			res.cold.summary()+fmt.Sprintf("; exit after stdin closes %s; peak RSS %s", ms(res.coldExit.p50()), mib(res.coldRSS)),
			"`clawgate version` (spawn, package init, exit): "+res.version.summary(), placeholderAbsent, "≤ "+ms(targetCold), verdict(res.cold.p50() <= targetCold))
	}
	if len(res.oneShot) > 0 {
		base, cmp := placeholderAbsent, placeholderAbsent
		if len(res.cli) > 0 {
			base = fmt.Sprintf("%s: %s, n=%d", cliLabel, res.cli.summary(), len(res.cli))
			cmp = ratio(res.cli.p50(), res.oneShot.p50()) + " faster"
		}
		row("2", fmt.Sprintf("one-shot: spawn → `initialize` → first `list_sessions` result (includes clawgate's WebSocket connect), n=%d", len(res.oneShot)),
			res.oneShot.summary(), base, cmp, placeholderAbsent, "info")
	}
	if len(res.warmMCP) > 0 {
		added := res.warmMCP.p50() - res.warmRaw.p50()
		row("3", fmt.Sprintf("warm `tools/call list_sessions` over stdio (one long-lived clawgate) vs raw WebSocket `sessions.list` `{\"limit\":%d}`, n=%d each, interleaved", cfg.limit, len(res.warmMCP)),
			res.warmMCP.summary()+"; clawgate CPU "+ms(res.warmCPU)+"/call", "raw: "+res.warmRaw.summary(),
			fmt.Sprintf("%s at p50 (paired p50 %s); %s", signed(added), signed(res.warmDiff.p50()), ratio(res.warmMCP.p50(), res.warmRaw.p50())),
			"≤ +"+ms(targetWarmAdded), verdict(added <= targetWarmAdded))
	}
	if len(res.tapList) > 0 {
		row("3a", fmt.Sprintf("… clawgate's own time in that call: stdin → request frame + reply frame → stdout, at a WebSocket tap (it includes decoding the reply, as the raw figure does), n=%d", len(res.tapList)),
			res.tapList.summary(), placeholderAbsent, placeholderAbsent, placeholderAbsent, "info")
	}
	if len(res.smallMCP) > 0 {
		row("3b", fmt.Sprintf("… the same with `{\"limit\":1}` (small reply: clawgate's per-call overhead), n=%d each, interleaved", len(res.smallMCP)),
			res.smallMCP.summary(), "raw: "+res.smallRaw.summary(),
			fmt.Sprintf("%s at p50 (paired p50 %s); %s", signed(res.smallMCP.p50()-res.smallRaw.p50()), signed(res.smallDiff.p50()), ratio(res.smallMCP.p50(), res.smallRaw.p50())),
			placeholderAbsent, "info")
	}
	if len(res.cli) > 0 && len(res.warmMCP) > 0 {
		speedup := float64(res.cli.p50()) / float64(res.warmMCP.p50())
		row("4", fmt.Sprintf("warm `list_sessions` vs the CLI %s, one process per call, n=%d", cliCmd, len(res.cli)),
			res.warmMCP.summary(), fmt.Sprintf("%s: %s; peak RSS %s", cliLabel, res.cli.summary(), mib(res.cliRSS)),
			ratio(res.cli.p50(), res.warmMCP.p50())+" faster", fmt.Sprintf("≥ %.0f×", targetCLISpeedup), verdict(speedup >= targetCLISpeedup))
	} else if res.cliSkipped != "" {
		row("4", "warm `list_sessions` vs the CLI", placeholderAbsent, "skipped: "+res.cliSkipped, placeholderAbsent, fmt.Sprintf("≥ %.0f×", targetCLISpeedup), placeholderAbsent)
	}
	if len(res.concMCP) > 0 {
		k := cfg.conc
		tpMCP := float64(k*len(res.concMCP)) / res.concMCP.sum().Seconds()
		tpRaw := float64(k*len(res.concRaw)) / res.concRaw.sum().Seconds()
		row("5", fmt.Sprintf("%d concurrent `tools/call list_sessions` into one clawgate (all succeed) vs %d `sessions.list` pipelined on one WebSocket, %d rounds each, interleaved", k, k, len(res.concMCP)),
			fmt.Sprintf("%.0f calls/s (round of %d: %s); clawgate CPU %s/call", tpMCP, k, res.concMCP.summary(), ms(res.concCPU)),
			fmt.Sprintf("raw: %.0f calls/s (round: %s)", tpRaw, res.concRaw.summary()),
			fmt.Sprintf("%.0f%% of raw throughput", 100*tpMCP/tpRaw), fmt.Sprintf("≥ %.0f%%", 100*targetConcRatio), verdict(tpMCP/tpRaw >= targetConcRatio))
	}
	if len(res.agentMCP) > 0 {
		added := res.agentMCP.p50() - res.agentRaw.p50()
		v := verdict(added <= targetAgentAdded)
		if spread := res.agentRaw.p90() - res.agentRaw.p50(); spread > 10*targetAgentAdded && len(res.agentTap) > 0 {
			// The gateway's own variation buries a millisecond: 6a decides.
			v = fmt.Sprintf("noise (raw p90 − p50 = %s): see 6a", ms(spread))
		}
		row("6", fmt.Sprintf("`ask_subagent` vs raw WebSocket `agent` (accepted → final), fake model, n=%d each, interleaved, own session each", len(res.agentMCP)),
			res.agentMCP.summary()+"; clawgate CPU "+ms(res.agentCPU)+"/run", "raw: "+res.agentRaw.summary(),
			fmt.Sprintf("%s at p50 (paired p50 %s); %s", signed(added), signed(res.agentDiff.p50()), ratio(res.agentMCP.p50(), res.agentRaw.p50())),
			"≤ +"+ms(targetAgentAdded), v)
	}
	if len(res.agentTap) > 0 {
		row("6a", fmt.Sprintf("… clawgate's own time in `ask_subagent`: stdin → `agent` frame + final reply frame → stdout, at a WebSocket tap, n=%d", len(res.agentTap)),
			res.agentTap.summary(), placeholderAbsent, placeholderAbsent, "≤ "+ms(targetAgentAdded), verdict(res.agentTap.p50() <= targetAgentAdded))
	}
	if res.memCalls > 0 {
		base := placeholderAbsent
		if res.cliRSS > 0 {
			base = fmt.Sprintf("one %s CLI call: peak RSS %s", cliLabel, mib(res.cliRSS))
		}
		row("7", fmt.Sprintf("clawgate RSS after %d tool calls (/proc/<pid>/status)", res.memCalls),
			fmt.Sprintf("%s = %s anonymous + %s file (the binary's pages); peak %s; %d threads; %s after `initialize`",
				mib(res.rssAfter), mib(res.rssAnonAfter), mib(res.rssFileAfter), mib(res.hwmAfter), res.threadsAfter, mib(res.rssInit)),
			base, placeholderAbsent, "≤ "+mib(targetRSSKiB), verdict(res.rssAfter <= targetRSSKiB))
	}
	if g := res.goroutines; g != nil {
		row("8", fmt.Sprintf("goroutines: the same server and gateway client in this process, %d `list_sessions` calls from 8 callers", g.calls),
			fmt.Sprintf("connected idle %d → at most %d during → %d after; %d after Close (%d before); live heap %s → %s", g.idle, g.peak, g.after, g.closed, g.before, mib(int64(g.heapIdle/1024)), mib(int64(g.heapAfter/1024))),
			placeholderAbsent, placeholderAbsent, "back to baseline", verdict(g.after <= g.idle && g.closed <= g.before))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Cells are p50 (p90). \"Paired\" is the median of the per-iteration differences (both sides measured back to back, alternating which goes first).")
	fmt.Fprintln(w, "Both sides decode each reply once with encoding/json; the raw client has no background goroutine. Wall-clock times on a shared machine.")
	if res.agentText != "" {
		fmt.Fprintf(w, "Agent reply seen: %q\n", tailOf(res.agentText, 80))
	}
}

// mib formats a size in KiB as MiB.
func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// signed formats d in milliseconds with an explicit sign.
func signed(d time.Duration) string {
	if d >= 0 {
		return "+" + ms(d)
	}
	return ms(d)
}

func orAbsent(s string) string {
	if s == "" {
		return placeholderAbsent
	}
	return s
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
