// Command fakemodel serves the fake OpenAI-compatible model API of package
// fakemodel on a loopback port, for running a gateway by hand:
//
//	go run ./e2e/fakemodel/cmd/fakemodel --port 18899 --log /tmp/fake-requests.jsonl
//
// It replaces the lab's fake_openai.py (same endpoints, replies and
// "[[delay=N]]", "[[reply:TEXT]]" and "[[reply64:BASE64]]" markers; usage
// counts that grow with the request) and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/clawgate/clawgate/e2e/fakemodel"
)

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 18790, "listen port (0: any free port)")
	models := flag.String("models", strings.Join(fakemodel.DefaultModels(), ","), "comma-separated model ids")
	logPath := flag.String("log", "", "append every request as a JSON line to this file")
	delay := flag.Duration("delay", 0, "wait this long before every answer")
	chunkDelay := flag.Duration("chunk-delay", 0, "pause between SSE chunks")
	flag.Parse()

	opts := fakemodel.Options{Delay: *delay, ChunkDelay: *chunkDelay}
	for _, m := range strings.Split(*models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			opts.Models = append(opts.Models, m)
		}
	}
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		opts.Log = f
	}
	srv := fakemodel.New(opts)
	if err := srv.Start(*host + ":" + strconv.Itoa(*port)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("fakemodel listening on %s\n", srv.BaseURL())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = srv.Close()
}
