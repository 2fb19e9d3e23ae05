package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets of issue #12.
const (
	targetParRatio     = 2.0              // --dlg-par parallel asks vs one ask, wall time
	targetModelOverMsg = 1024             // mode model: request bytes beyond the message itself
	targetDlgAdded     = time.Millisecond // clawgate's own time per ask, p50
)

// dlgReport prints the delegation measurements as a Markdown table.
func (r *runner) dlgReport(w io.Writer) {
	d := &r.dlg
	cfg := r.cfg
	d.header(w, "ask_subagent delegation", cfg)
	fmt.Fprintln(w, "| | mode | measurement | clawgate | raw gateway (same params) | clawgate vs raw | target | |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	row := func(num, mode, what, ours, base, cmp, target, v string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", num, mode, what, ours, base, cmp, target, v)
	}
	none := placeholderAbsent
	for _, m := range d.modes {
		mode := "`" + m.name + "`"
		if m.refusal != "" {
			row("0", mode, "is the mode available?", "refused: "+quoteCell(m.refusal), none, none, none, "info")
			continue
		}
		if len(m.private) > 0 {
			first, last := m.private[0], m.private[len(m.private)-1]
			row("1", mode, fmt.Sprintf("request bytes to the model for a one-line subtask (%d B message), %d sequential asks with default arguments (a private session each): 1st → %s",
				m.msgBytes, len(m.private), ordinal(len(m.private))),
				fmt.Sprintf("%s → %s (%s); %s", bytesOf(first.bytes), bytesOf(last.bytes), spanOf(m.private), shapeOf(last, m.private, m.privateOther)),
				none, fmt.Sprintf("%+d B", last.bytes-first.bytes), fmt.Sprintf("flat: %s ≤ 1st", ordinal(len(m.private))), verdict(last.bytes <= first.bytes))
		}
		if len(m.shared) > 0 {
			first, last := m.shared[0], m.shared[len(m.shared)-1]
			row("1b", mode, fmt.Sprintf("… for contrast, the same %d asks in one named session (`session_key`)", len(m.shared)),
				fmt.Sprintf("%s → %s (%s); %s", bytesOf(first.bytes), bytesOf(last.bytes), spanOf(m.shared), shapeOf(last, m.shared, m.sharedOther)),
				none, fmt.Sprintf("%+d B (%.2f×)", last.bytes-first.bytes, float64(last.bytes)/float64(max(first.bytes, 1))), none, "info")
		} else if m.sharedSkipped != "" && len(m.private) > 0 {
			row("1b", mode, "… in one named session", "skipped: "+m.sharedSkipped, none, none, none, none)
		}
		if m.name == "model" && len(m.private) > 0 {
			worst := 0
			for _, a := range m.private {
				worst = max(worst, a.bytes)
			}
			over := worst - m.msgBytes
			row("2", mode, "request bytes vs the message itself (the largest of those asks)",
				fmt.Sprintf("%s for a %d B message", bytesOf(worst), m.msgBytes), none, fmt.Sprintf("%+d B", over),
				fmt.Sprintf("within %s", bytesOf(targetModelOverMsg)), verdict(over <= targetModelOverMsg))
		}
		if len(m.lat0MCP) > 0 {
			added := m.lat0MCP.p50() - m.lat0Raw.p50()
			row("3", mode, fmt.Sprintf("one ask, model answers at once: `ask_subagent` vs raw `agent` (accepted → final), n=%d each, interleaved", len(m.lat0MCP)),
				m.lat0MCP.summary(), "raw: "+m.lat0Raw.summary(),
				fmt.Sprintf("%s at p50 (paired p50 %s); %s", signed(added), signed(m.lat0Diff.p50()), ratio(m.lat0MCP.p50(), m.lat0Raw.p50())),
				none, "info")
			row("3a", mode, fmt.Sprintf("… clawgate's own time in that ask: stdin → `agent` frame + final reply frame → stdout, at a WebSocket tap, n=%d", len(m.lat0Own)),
				fmt.Sprintf("%s = in %s + out %s at p50; final reply frame up to %s", m.lat0Own.summary(), ms(m.lat0In.p50()), ms(m.lat0Out.p50()), bytesOf(m.replyBytes)),
				none, none, "≤ "+ms(targetDlgAdded), verdict(m.lat0Own.p50() <= targetDlgAdded))
		}
		if len(m.namedOwn) > 0 {
			row("3b", mode, fmt.Sprintf("… the same in one named session (`session_key`): no private session to create or remove, n=%d", len(m.namedOwn)),
				fmt.Sprintf("%s = in %s + out %s at p50", m.namedOwn.summary(), ms(m.namedIn.p50()), ms(m.namedOut.p50())),
				none, fmt.Sprintf("private − named: %s at p50", signed(m.lat0Own.p50()-m.namedOwn.p50())), none, "info")
		}
		if len(m.lat3MCP) > 0 {
			row("4", mode, fmt.Sprintf("one ask with a %s model delay, n=%d each, interleaved", cfg.dlgDelay, len(m.lat3MCP)),
				fmt.Sprintf("%s: %s over the model's own %s; own time %s", m.lat3MCP.summary(), signed(m.lat3MCP.p50()-cfg.dlgDelay), cfg.dlgDelay, ms(m.lat3Own.p50())),
				fmt.Sprintf("raw: %s: %s over the delay", m.lat3Raw.summary(), signed(m.lat3Raw.p50()-cfg.dlgDelay)),
				fmt.Sprintf("%s at p50 (paired p50 %s)", signed(m.lat3MCP.p50()-m.lat3Raw.p50()), signed(m.lat3Diff.p50())), none, "info")
		}
		if len(m.parMCP) > 0 {
			ours := float64(m.parMCP.p50()) / float64(m.lat3MCP.p50())
			theirs := float64(m.parRaw.p50()) / float64(m.lat3Raw.p50())
			row("5", mode, fmt.Sprintf("%d parallel asks with a %s model delay (clawgate: %d `tools/call` at once into one clawgate, private sessions; raw: %d `agent` requests at once on one WebSocket, %d private session keys): wall time vs one ask (row 4), %d rounds each, interleaved",
				cfg.dlgPar, cfg.dlgDelay, cfg.dlgPar, cfg.dlgPar, cfg.dlgPar, len(m.parMCP)),
				fmt.Sprintf("%s; **%.2f×** one ask", m.parMCP.summary(), ours),
				fmt.Sprintf("raw: %s; %.2f× one raw run", m.parRaw.summary(), theirs),
				fmt.Sprintf("%s at p50", signed(m.parMCP.p50()-m.parRaw.p50())),
				fmt.Sprintf("≤ %.0f×", targetParRatio), verdict(ours <= targetParRatio))
		}
		if len(m.parKeep) > 0 {
			keep := float64(m.parKeep.p50()) / float64(m.lat3MCP.p50())
			row("5a", mode, fmt.Sprintf("… clawgate with `keep_session: true` (its sessions removed after the round, untimed): what the background removals during the round cost, %d rounds", len(m.parKeep)),
				fmt.Sprintf("%s; %.2f× one ask", m.parKeep.summary(), keep), none,
				fmt.Sprintf("removing vs keeping: %s at p50", signed(m.parMCP.p50()-m.parKeep.p50())), none, "info")
		}
		if !m.removes && len(m.private) > 0 {
			row("6", mode, "clawgate's removal of its private sessions after answering", "none: clawgate sends no `sessions.delete` in this mode (nothing is stored)", none, none, none, "info")
		}
		if len(m.dels) > 0 {
			row("6", mode, fmt.Sprintf("clawgate's removal of its private sessions after answering (background `sessions.delete`, not in the figures above), n=%d", len(m.dels)),
				m.dels.summary(), none, none, none, "info")
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Cells are p50 (p90). Request bytes are the bodies the gateway POSTed to the fake model (its request log), found by a token in each subtask.")
	fmt.Fprintln(w, "Both sides reach the gateway through a WebSocket tap of their own; where clawgate removes its private sessions, the raw side removes its sessions after each run too, untimed, and clawgate's background removals are waited for before the next measurement.")
	for _, m := range d.modes {
		if m.params == "" {
			continue
		}
		same := "the raw client sends the same keys and values"
		if m.paramsDiff != "" {
			same = "**the raw client's params differ**: " + m.paramsDiff
		}
		fmt.Fprintf(w, "Mode %s: clawgate sent `agent` %s; %s. Warm-up ask: %s.\n", m.name, m.params, same, m.usage)
	}
}

// ordinal is 1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, … 21st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprint(n) + suffix
}

// bytesOf formats a byte count with thousands separators.
func bytesOf(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + " B"
}

// spanOf is the smallest and the largest ask of a sequence.
func spanOf(asks []askBytes) string {
	lo, hi := asks[0].bytes, asks[0].bytes
	for _, a := range asks {
		lo, hi = min(lo, a.bytes), max(hi, a.bytes)
	}
	return fmt.Sprintf("min %s, max %s", bytesOf(lo), bytesOf(hi))
}

// shapeOf describes the last request of a sequence and how many model
// requests each ask made.
func shapeOf(last askBytes, asks []askBytes, other int) string {
	lo, hi := asks[0].requests, asks[0].requests
	for _, a := range asks {
		lo, hi = min(lo, a.requests), max(hi, a.requests)
	}
	per := fmt.Sprintf("%d model request per ask", lo)
	if lo != 1 || hi != 1 {
		per = fmt.Sprintf("%d–%d model requests per ask", lo, hi)
	}
	s := fmt.Sprintf("last: %d messages, %d tools, %s system chars; %s", last.messages, last.tools, strings.TrimSuffix(bytesOf(last.systemChars), " B"), per)
	if other > 0 {
		s += fmt.Sprintf("; %d other model requests meanwhile", other)
	}
	return s
}

// quoteCell makes text safe in a Markdown table cell.
func quoteCell(s string) string {
	return "“" + strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") + "”"
}
