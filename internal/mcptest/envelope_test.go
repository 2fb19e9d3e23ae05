package mcptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gotwant"
)

var envelopeSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a \"quoted\" } ] text"}],"isError":false}}`,
	`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request.","data":{"x":[1,{"y":"}"}]}}}`,
	` { "jsonrpc" : "2.0" , "method" : "notifications/progress" , "params" : { "progressToken" : 9007199254740993 } } `,
	`{"jsonrpc":"2.0","id":"a\"b","method":"ping"}`,
	`{"jsonrpc":"2.0","id":-1.5e3,"result":[]}`,
	`{"jsonrpc":"2.0","id":7,"error":null,"result":true}`,
	`{"\u006aSONRPC":"x","jsonrpc":"2.0","\u0069d":3,"result":{}}`,
	`{}`,
	`{"jsonrpc":"2.0","id":1,"id":2,"result":1}`,
	`{"jsonrpc":2,"id":1}`,
	`{"jsonrpc":"2.0","method":5}`,
	`[1]`,
	`{"jsonrpc":"2.0","id":1,"result":{"a":1}} trailing`,
	`{"jsonrpc":"2.0","id":1,"result":{"a":1}`,
	`{"jsonrpc":"2.0","id":1,"result":"unterminated}`,
	`null`,
}

// For valid JSON, decodeEnvelope reads what encoding/json reads, member
// names compared exactly.
func FuzzEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var m Message
		err := decodeEnvelope([]byte(line), &m)
		var members map[string]json.RawMessage
		if !json.Valid([]byte(line)) || json.Unmarshal([]byte(line), &members) != nil || members == nil {
			return // not a JSON object: decodeEnvelope may say anything but must not panic
		}
		var want Message
		var wantErr error
		for k, v := range members {
			if e := want.set(k, bytes.TrimSpace(v)); e != nil {
				wantErr = e
			}
		}
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: decodeEnvelope error %v, encoding/json %v", line, err, wantErr)
		}
		if err != nil {
			return
		}
		gotwant.Fatal(t, fmt.Sprintf("%q", line),
			gotwant.Eq("jsonrpc", m.JSONRPC, want.JSONRPC),
			gotwant.Eq("method", m.Method, want.Method),
			gotwant.Eq("id", string(m.ID), string(want.ID)),
			gotwant.Eq("params", string(m.Params), string(want.Params)),
			gotwant.Eq("result", string(m.Result), string(want.Result)),
			gotwant.Eq("error", fmt.Sprint(m.Error), fmt.Sprint(want.Error)),
		)
	})
}

func TestEnvelopeRefusesWhatIsNotAnObject(t *testing.T) {
	for _, line := range []string{`[1]`, `{"a":1} trailing`, `{"a":1`, `{"a":"x}`, `{"a" 1}`, `{"a":}`, ``, `{,}`,
		`{"a":[1 2]}`, `{"a":{"b" 1}}`, `{"a":[1,]}`, `{"a":1,}`, `{"a":` + strings.Repeat("[", maxDepth+1)} {
		var m Message
		if err := decodeEnvelope([]byte(line), &m); err == nil {
			t.Errorf("%q decoded: %+v", line, m)
		}
	}
}
