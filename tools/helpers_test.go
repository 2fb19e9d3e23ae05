package tools_test

import (
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/tools"
)

// unreachableGateway is a client for a URL nobody listens on; building the
// server never connects, so definitions can be listed without a gateway.
func unreachableGateway(t testing.TB) *gateway.Client {
	t.Helper()
	gw, err := gateway.New(gateway.Options{URL: "ws://127.0.0.1:1", Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw
}

// newInProcess starts an initialized in-process MCP client on a server
// built from cfg with gw as its gateway.
func newInProcess(t testing.TB, gw tools.Gateway, cfg tools.Config) *client.Client {
	t.Helper()
	cfg.Gateway = gw
	srv, err := tools.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "0"}
	if _, err := c.Initialize(t.Context(), init); err != nil {
		t.Fatal(err)
	}
	return c
}

// logConnLost is what the gateway client logs when a connection dies (not
// closed by clawgate).
const logConnLost = "gateway connection lost"
