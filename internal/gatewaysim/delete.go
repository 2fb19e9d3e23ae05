package gatewaysim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// mainSessionKey is the main session of the main agent, which
// sessions.delete refuses to delete.
const mainSessionKey = "agent:main:main"

// archiveStamp matches the "<ISO time>[.<hex>.zst]" suffix of a recorded
// archived transcript path.
var archiveStamp = regexp.MustCompile(`\.deleted\.[0-9T:.Z-]+(\.[0-9a-f]{32}\.zst)?$`)

// sessionsDelete answers sessions.delete as recorded: the main session is
// refused; running runs of the session are aborted first (OpenClaw answers
// once they ended; Clawdbot answers before their final replies, after which
// the run's end writes the session again); an existing session is removed
// and its transcript archived unless deleteTranscript is false; an unknown
// key gives deleted false.
func (s *Server) sessionsDelete(c *Conn, req Request) (any, *ErrorShape) {
	v4 := s.opts.Generation == OpenClaw
	if e := s.checkParams("sessions.delete", s.prof.sessionsDelete, req.Params); e != nil {
		return nil, e
	}
	var p struct {
		Key              string `json:"key"`
		DeleteTranscript *bool  `json:"deleteTranscript"`
		ArchivedOnly     bool   `json:"archivedOnly"`
	}
	_ = json.Unmarshal(req.Params, &p)
	given := strings.TrimSpace(p.Key)
	if given == "" {
		return nil, invalid("key required")
	}
	key := canonicalKey(given)
	if key == mainSessionKey || (v4 && key == "global") {
		return nil, invalid(fmt.Sprintf("Cannot delete the main session (%s).", key))
	}
	if v4 && p.ArchivedOnly && !s.store.isArchived(key) {
		return nil, invalid(fmt.Sprintf("Session %s is not archived. Archive it first, then delete it.", p.Key))
	}
	var runs []*run
	for _, r := range s.runs.active(key, "") {
		if r.modelRun { // it works in its own internal session
			continue
		}
		r.mu.Lock()
		r.deleted = true
		r.mu.Unlock()
		runs = append(runs, r)
	}
	_, release := s.abortThese(runs)
	if v4 {
		release()
		for _, r := range runs {
			select {
			case <-r.done:
			case <-time.After(5 * time.Second):
			}
		}
	}
	keep := p.DeleteTranscript != nil && !*p.DeleteTranscript
	hadTranscript := s.store.hasTranscript(key, v4)
	sess := s.store.remove(key, keep)
	archived := []any{}
	if sess != nil && !keep && hadTranscript {
		archived = append(archived, s.archivePath(sess.sessionID))
	}
	s.changed()
	res := cloneObj(s.tpl.deleteHit)
	res["ok"], res["key"], res["deleted"], res["archived"] = true, key, sess != nil, archived
	c.replyAsync(req.ID, res)
	release() // Clawdbot: the aborted runs' finals follow the answer
	return nil, nil
}

// archivePath is where a deleted session's transcript goes, shaped like
// the recorded one (OpenClaw compresses it and adds a random suffix).
func (s *Server) archivePath(sessionID string) string {
	tpl := s.tpl.archivedPath
	dir := tpl[:strings.LastIndex(tpl, "/")+1]
	stamp := strings.ReplaceAll(time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), ":", "-")
	suffix := ""
	if m := archiveStamp.FindStringSubmatch(tpl); m != nil && m[1] != "" {
		suffix = "." + randomHex(16) + ".zst"
	}
	return dir + sessionID + ".jsonl.deleted." + stamp + suffix
}

// hasTranscript reports whether a session has a transcript file: on
// OpenClaw once a run started, on Clawdbot once a run finished (recorded:
// deleting a Clawdbot session during its first run archives nothing).
func (st *store) hasTranscript(key string, v4 bool) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.sessions[key]
	if s == nil {
		return false
	}
	return len(s.turns) > 0 || (v4 && s.activeRun != "")
}

// isArchived reports whether sessions.patch archived the session.
func (st *store) isArchived(key string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.sessions[key]
	return s != nil && s.extra["archived"] == true
}
