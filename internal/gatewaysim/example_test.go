package gatewaysim_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/coder/websocket"
)

// A client talks to the fake exactly like to a real gateway.
func Example() {
	srv := gatewaysim.New(gatewaysim.Options{Generation: gatewaysim.Clawdbot})
	defer srv.Close()

	// The fake answers every frame read below; go test's -timeout bounds
	// the example should it not (a real client would bound each wait).
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		panic(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)

	type frame struct {
		Type    string          `json:"type"`
		Event   string          `json:"event"`
		ID      string          `json:"id"`
		OK      bool            `json:"ok"`
		Payload json.RawMessage `json:"payload"`
	}
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			panic(err)
		}
	}
	// next returns the next res frame with id, skipping events.
	next := func(id string) frame {
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				panic(err)
			}
			var f frame
			_ = json.Unmarshal(b, &f)
			if f.Type == "res" && f.ID == id {
				return f
			}
		}
	}

	send(map[string]any{"type": "req", "id": "c1", "method": "connect", "params": map[string]any{
		"minProtocol": 3, "maxProtocol": 4,
		"client": map[string]any{"id": "gateway-client", "version": "0.1.0", "platform": "linux", "mode": "backend"},
		"role":   "operator", "scopes": []string{"operator.admin"}, "auth": map[string]any{"token": "test-token"},
	}})
	var hello struct{ Protocol int }
	_ = json.Unmarshal(next("c1").Payload, &hello)
	fmt.Println("protocol", hello.Protocol)

	send(map[string]any{"type": "req", "id": "a1", "method": "agent", "params": map[string]any{
		"message": "hi", "sessionKey": "agent:main:example", "idempotencyKey": "run-1"}})
	var status struct{ Status string }
	_ = json.Unmarshal(next("a1").Payload, &status)
	fmt.Println(status.Status)
	var final struct {
		Status string
		Result struct{ Payloads []struct{ Text string } }
	}
	_ = json.Unmarshal(next("a1").Payload, &final)
	fmt.Println(final.Status, final.Result.Payloads[0].Text)
	fmt.Println(srv.Runs()[0].SessionKey)
	// Output:
	// protocol 3
	// accepted
	// ok FAKE-REPLY: you said <<hi>>
	// agent:main:example
}
