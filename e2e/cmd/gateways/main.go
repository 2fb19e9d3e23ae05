// Command gateways starts the real gateways exactly as the e2e tests do —
// installed into the e2e cache, on free loopback ports, each with its own
// fake model server and temporary state — prints how to reach them, and
// keeps them running until SIGINT or SIGTERM, then stops everything it
// started. It is for debugging clawgate by hand against real gateways:
//
//	go run ./e2e/cmd/gateways                 # both
//	go run ./e2e/cmd/gateways clawdbot        # one
//
// Each gateway is described by one eval-able line:
//
//	PRODUCT=openclaw URL=ws://127.0.0.1:24312 TOKEN=… DIR=… MODEL_URL=… FAKE_LOG=… PID=…
//
// FAKE_LOG is the fake model's request log (<DIR>/logs/fake-requests.jsonl):
// one JSON line per request on arrival, with what the model was sent
// (body_bytes, messages, tools, system_chars, user_texts), and one when it
// ends. `go run ./bench/sidebyside --delegation` reads it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/e2e/internal/harness"
)

func main() {
	names := os.Args[1:]
	if len(names) == 0 {
		names = []string{"openclaw", "clawdbot"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(f string, a ...any) { log.Printf(f, a...) }
	cache, err := harness.DefaultCacheDir()
	if err != nil {
		log.Fatal(err)
	}
	inst, err := harness.NewInstaller(cache, logf)
	if err != nil {
		log.Fatal(err)
	}
	work, err := os.MkdirTemp("", "clawgate-gateways-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		_ = harness.StopAll(20 * time.Second)
		log.Printf("stopped; state and logs kept in %s", work)
	}()
	node, err := inst.Node(ctx)
	if err != nil {
		log.Print(err)
		return
	}
	for _, name := range names {
		p, ok := harness.Products[name]
		if !ok {
			log.Printf("unknown product %q", name)
			return
		}
		prefix, err := inst.Install(ctx, p.Package())
		if err != nil {
			log.Print(err)
			return
		}
		dir := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
			log.Print(err)
			return
		}
		fakeLog := filepath.Join(dir, "logs", "fake-requests.jsonl")
		flog, err := os.Create(fakeLog)
		if err != nil {
			log.Print(err)
			return
		}
		defer flog.Close()
		fake := fakemodel.New(fakemodel.Options{Log: flog})
		if err := fake.Start("127.0.0.1:0"); err != nil {
			log.Print(err)
			return
		}
		defer fake.Close()
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		gw, err := harness.NewGateway(harness.GatewayOptions{Product: p, Node: node, Prefix: prefix, Dir: dir,
			Token: "dev-" + hex.EncodeToString(b), ModelURL: fake.BaseURL(), TempDir: inst.TempDir(p)})
		if err != nil {
			log.Print(err)
			return
		}
		took, err := gw.Start(ctx)
		if err != nil {
			log.Print(err)
			return
		}
		log.Printf("%s@%s ready after %s (pid %d)", p.Name, p.Version, took.Round(100*time.Millisecond), gw.Proc().PID())
		fmt.Printf("PRODUCT=%s URL=%s TOKEN=%s DIR=%s MODEL_URL=%s FAKE_LOG=%s PID=%d\n", p.Name, gw.URL, gw.Token, dir, fake.BaseURL(), fakeLog, gw.Proc().PID())
	}
	<-ctx.Done()
}
