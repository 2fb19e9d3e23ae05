package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// fakeLog reads the request log of the e2e fake model (e2e/fakemodel,
// Options.Log; `go run ./e2e/cmd/gateways` writes it to
// <DIR>/logs/fake-requests.jsonl and prints its path as FAKE_LOG). The log
// belongs to another process and grows while it is read: each read takes
// the complete lines written since the last one.
type fakeLog struct {
	path string
	off  int64       // bytes consumed: everything up to the last complete line
	reqs []fakeEntry // model requests (POST) read so far, in order
}

// fakeEntry is the arrival line of one model request: what the gateway sent
// the model.
type fakeEntry struct {
	Seq         int      `json:"seq"`
	Method      string   `json:"method"`
	Path        string   `json:"path"`
	BodyBytes   *int     `json:"body_bytes"` // absent on end lines and GETs
	Model       string   `json:"model"`
	Messages    int      `json:"messages"`
	Tools       int      `json:"tools"`
	SystemChars int      `json:"system_chars"`
	UserTexts   []string `json:"user_texts"`
}

// openFakeLog checks that path is readable and starts reading at its end:
// only requests made from now on count.
func openFakeLog(path string) (*fakeLog, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("the fake model's request log: %w (pass --fake-log, FAKE_LOG from `go run ./e2e/cmd/gateways`)", err)
	}
	return &fakeLog{path: path, off: st.Size()}, nil
}

// read takes the complete lines written since the last read.
func (l *fakeLog) read() error {
	f, err := os.Open(l.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return nil
	}
	for _, line := range bytes.Split(data[:end], []byte{'\n'}) {
		var e fakeEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("%s: malformed line: %w", l.path, err)
		}
		if e.BodyBytes != nil && e.Method == "POST" {
			l.reqs = append(l.reqs, e)
		}
	}
	l.off += int64(end + 1)
	return nil
}

// mark is a position in the requests read so far, for since.
func (l *fakeLog) mark() int { return len(l.reqs) }

// since returns the model requests read after mark.
func (l *fakeLog) since(mark int) []fakeEntry { return l.reqs[mark:] }

// task is the text of the newest user message that is not context the
// gateway injected (OpenClaw appends a "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>"
// user message after the real one): the subtask this request is about.
func (e fakeEntry) task() string {
	for i := len(e.UserTexts) - 1; i >= 0; i-- {
		if t := strings.TrimSpace(e.UserTexts[i]); !strings.HasPrefix(t, "<<<BEGIN_") {
			return t
		}
	}
	return ""
}

// askBytes is what the model was sent for one ask: every model request whose
// subtask carries the ask's token.
type askBytes struct {
	requests    int
	bytes       int // request bodies, summed
	largest     int // the largest request body
	messages    int // of the largest request
	tools       int
	systemChars int
}

// byToken groups reqs by the token of each ask (a request belongs to the
// ask whose token its subtask contains) and returns them in the order of
// tokens, and how many requests belonged to no ask.
func byToken(reqs []fakeEntry, tokens []string) ([]askBytes, int) {
	out := make([]askBytes, len(tokens))
	other := 0
	for _, e := range reqs {
		task, found := e.task(), false
		for i, tok := range tokens {
			if !strings.Contains(task, tok) {
				continue
			}
			a := &out[i]
			a.requests++
			a.bytes += *e.BodyBytes
			if *e.BodyBytes > a.largest {
				a.largest, a.messages, a.tools, a.systemChars = *e.BodyBytes, e.Messages, e.Tools, e.SystemChars
			}
			found = true
			break
		}
		if !found {
			other++
		}
	}
	return out, other
}
