package gatewaysim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Model prices, fallbacks and the usage.cost method.

// catalogModel returns the Options.Models entry of ref, if any.
func (s *Server) catalogModel(ref string) (Model, bool) {
	for _, m := range s.opts.Models {
		if r, _ := resolveModelRef(m.Ref, nil); r == ref {
			return m, true
		}
	}
	return Model{}, false
}

// priceFor returns the price of the model ref: its Options.Models price; 0
// for DefaultModel when it is not listed (the recordings' config prices it
// at 0); nil (no cost entry) otherwise. Clawdbot normalises a missing cost
// entry to zeros, so there a model without a price costs 0.
func (s *Server) priceFor(ref string) *Price {
	m, ok := s.catalogModel(ref)
	switch {
	case ok && m.Price != nil:
		p := *m.Price
		return &p
	case !ok && ref == DefaultModel, s.opts.Generation == Clawdbot:
		return &Price{}
	}
	return nil
}

// contextWindow is the context window of an Options.Models model (0 when
// the model is not listed).
func (s *Server) contextWindow(ref string) int {
	m, ok := s.catalogModel(ref)
	if !ok {
		return 0
	}
	if m.ContextWindow > 0 {
		return m.ContextWindow
	}
	return 200000
}

// fallbackFor returns the model Options.Fallbacks serves instead of ref.
func (s *Server) fallbackFor(ref string) (string, bool) {
	for from, to := range s.opts.Fallbacks {
		if r, ok := resolveModelRef(from, s.opts.Models); ok && r == ref {
			served, ok := resolveModelRef(to, s.opts.Models)
			return served, ok && served != ref
		}
	}
	return "", false
}

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// usageTurns returns the completed runs usage.cost counts: those of the
// stored sessions and of sessions deleted with deleteTranscript false.
func (st *store) usageTurns() []turn {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := append([]turn(nil), st.kept...)
	for _, s := range st.sessions {
		out = append(out, s.turns...)
	}
	// In run order, so that the float sums are the same every time.
	sort.Slice(out, func(i, j int) bool {
		if out[i].ended != out[j].ended {
			return out[i].ended < out[j].ended
		}
		return out[i].runID < out[j].runID
	})
	return out
}

// usageDays parses the days param like Clawdbot's parseDays: a number or a
// numeric string, floored; anything else means 30; at least 1.
func usageDays(raw json.RawMessage) int {
	days := 30
	var v any
	if json.Unmarshal(raw, &v) == nil {
		switch t := v.(type) {
		case float64:
			days = int(t)
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(t), 64); err == nil {
				days = int(f)
			}
		}
	}
	return max(days, 1)
}

// usageTotals accumulates one usage.cost bucket.
type usageTotals struct {
	input, output, cacheRead, cacheWrite int
	cost                                 usageCost
	missing                              int
	missingBy                            map[string]int
}

func (u *usageTotals) add(t turn) {
	u.input += t.input
	u.output += t.output
	if t.cost == nil {
		u.missing++
		if u.missingBy == nil {
			u.missingBy = map[string]int{}
		}
		u.missingBy[t.model]++
		return
	}
	u.cost.input += t.cost.input
	u.cost.output += t.cost.output
	u.cost.cacheRead += t.cost.cacheRead
	u.cost.cacheWrite += t.cost.cacheWrite
	u.cost.total += t.cost.total
}

// render fills a copy of a recorded totals object with u.
func (u *usageTotals) render(tpl obj) obj {
	o := cloneObj(tpl)
	set := func(k string, v any) {
		if _, ok := o[k]; ok {
			o[k] = v
		}
	}
	set("input", u.input)
	set("output", u.output)
	set("cacheRead", u.cacheRead)
	set("cacheWrite", u.cacheWrite)
	set("totalTokens", u.input+u.output+u.cacheRead+u.cacheWrite)
	set("totalCost", u.cost.total)
	set("inputCost", u.cost.input)
	set("outputCost", u.cost.output)
	set("cacheReadCost", u.cost.cacheRead)
	set("cacheWriteCost", u.cost.cacheWrite)
	set("missingCostEntries", u.missing)
	delete(o, "missingCostByModel")
	if len(u.missingBy) > 0 && tpl["inputCost"] != nil { // OpenClaw (recorded with a model without a cost entry)
		by := obj{}
		for m, n := range u.missingBy {
			by[m] = n
		}
		o["missingCostByModel"] = by
	}
	return o
}

// usageCostPayload answers usage.cost from the runs made on the fake: the
// last days days (default 30) by local date, with each run's tokens and
// cost. OpenClaw lists every day (zeros included) and a cache status;
// Clawdbot only the days with runs. The fake's cache is always fresh (the
// real OpenClaw's refreshes in the background: its first answers may say
// "refreshing" and lag behind the runs).
func (s *Server) usageCostPayload(req Request) (any, *ErrorShape) {
	v4 := s.opts.Generation == OpenClaw
	var p struct {
		Days json.RawMessage `json:"days"`
	}
	_ = json.Unmarshal(req.Params, &p)
	days := usageDays(p.Days)
	now := time.Now()
	first := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location()).AddDate(0, 0, -(days - 1))
	byDate := map[string]*usageTotals{}
	var total usageTotals
	var lastEnded int64
	turns := s.store.usageTurns()
	for _, t := range turns {
		if t.aborted {
			continue
		}
		ended := time.UnixMilli(t.ended)
		if ended.Before(first) {
			continue
		}
		date := ended.Format("2006-01-02")
		if byDate[date] == nil {
			byDate[date] = &usageTotals{}
		}
		byDate[date].add(t)
		total.add(t)
		lastEnded = max(lastEnded, t.ended)
	}
	tpl := s.tpl.usageCost
	totalsTpl := sub(tpl, "totals")
	res := cloneObj(tpl)
	res["updatedAt"] = nowMs()
	res["days"] = days
	res["totals"] = total.render(totalsTpl)
	daily := []any{}
	var dates []string
	if v4 {
		for d := first; !d.After(now); d = d.AddDate(0, 0, 1) {
			dates = append(dates, d.Format("2006-01-02"))
		}
	} else {
		for d := range byDate {
			dates = append(dates, d)
		}
		sort.Strings(dates)
	}
	for _, d := range dates {
		u := byDate[d]
		if u == nil {
			u = &usageTotals{}
		}
		e := obj{"date": d}
		for k, v := range u.render(totalsTpl) {
			e[k] = v
		}
		daily = append(daily, e)
	}
	res["daily"] = daily
	if cs := sub(tpl, "cacheStatus"); cs != nil {
		files := s.store.transcriptCount()
		cs = cloneObj(cs)
		cs["status"], cs["cachedFiles"], cs["pendingFiles"], cs["staleFiles"] = "fresh", files, 0, 0
		delete(cs, "refreshedAt")
		if files > 0 && lastEnded > 0 {
			cs["refreshedAt"] = lastEnded
		}
		res["cacheStatus"] = cs
	}
	return res, nil
}

// transcriptCount is the number of transcripts usage.cost reads: stored
// sessions with runs (and one for the kept transcripts of deleted ones).
func (st *store) transcriptCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, s := range st.sessions {
		if len(s.turns) > 0 {
			n++
		}
	}
	if len(st.kept) > 0 {
		n++
	}
	return n
}
