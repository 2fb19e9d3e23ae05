package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/tools"
)

// call runs one tool in-process and prints its structured result. Its
// arguments are the tool name and optional JSON arguments ("-" reads them
// from stdin).
func (a *app) call(ctx context.Context) error {
	opts, env, args := a.opts, a.env, a.inv.args
	if len(args) == 0 {
		var usage strings.Builder
		usage.WriteString("Usage: clawgate call TOOL [JSON-ARGUMENTS | -]\n\nTools:\n")
		printTools(&usage, opts.ReadOnly)
		return &usageError{more: strings.TrimSuffix(usage.String(), "\n")}
	}
	name := args[0]
	if !knownTool(name, opts.ReadOnly) {
		return &usageError{msg: tools.UnknownToolMessage(name, opts.ReadOnly), more: "Run 'clawgate tools' for the tools and their arguments."}
	}
	arguments, err := callArguments(args[1:], env.Stdin)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("%s: %v", name, err)}
	}
	if err := a.connect(ctx); err != nil {
		if ctx.Err() != nil {
			return interrupted("%s: interrupted", name)
		}
		return err
	}

	var prog *terminalProgress
	c, err := client.NewInProcessClient(a.srv)
	if err != nil {
		return err
	}
	defer c.Close()
	if env.StderrTerminal {
		prog = newTerminalProgress(env.Stderr, env.getenv("COLUMNS"))
		c.OnNotification(prog.notification)
		defer prog.clear()
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "clawgate-call", Version: version()}
	if _, err := c.Initialize(ctx, init); err != nil {
		return err
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = arguments
	if prog != nil {
		req.Params.Meta = &mcp.Meta{ProgressToken: "clawgate-call"}
	}
	res, err := c.CallTool(ctx, req)
	prog.clear()
	isInterrupted := ctx.Err() != nil
	switch {
	case err != nil && isInterrupted:
		return interrupted("%s: interrupted", name)
	case err != nil:
		return fmt.Errorf("%s: %w", name, err)
	case res.IsError:
		text := resultText(res)
		if !strings.Contains(text, name) {
			text = name + ": " + text
		}
		if isInterrupted {
			return &interruptedError{msg: text}
		}
		return errors.New(text)
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res.StructuredContent); err != nil {
		return err
	}
	if isInterrupted {
		// The tool finished just as the interrupt came: the result is
		// shown, and the interrupt still reported.
		return interrupted("%s: interrupted", name)
	}
	return nil
}

// knownTool reports whether name is a tool this configuration offers.
func knownTool(name string, readOnly bool) bool {
	for _, t := range tools.Catalog(readOnly) {
		if t.Name == name {
			return !t.Disabled
		}
	}
	return false
}

// callArguments decodes the optional JSON arguments of call: an object, or
// "-" to read one from stdin. None means {}.
func callArguments(args []string, stdin io.Reader) (map[string]any, error) {
	if len(args) == 0 {
		return nil, nil
	}
	raw := []byte(args[0])
	if args[0] == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err != nil {
			return nil, fmt.Errorf("read the arguments from stdin: %w", err)
		}
		raw = b
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the arguments are not valid JSON (%v); pass a JSON object such as '{\"limit\": 5}'", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("the arguments must be one JSON object, but more follows it; pass a JSON object such as '{\"limit\": 5}'")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the arguments must be a JSON object such as '{\"limit\": 5}', not %s", jsonKind(v))
	}
	return obj, nil
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// resultText joins the text contents of a tool result.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, ct := range res.Content {
		if tc, ok := ct.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// terminalProgress renders progress notifications on a terminal: tool and
// run events as lines, streamed text as one line rewritten in place.
type terminalProgress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	width int
	shown bool // the rolling line is on screen
	done  bool
}

func newTerminalProgress(w io.Writer, columns string) *terminalProgress {
	width := 80
	if n, err := strconv.Atoi(strings.TrimSpace(columns)); err == nil && n > 0 {
		width = n
	}
	return &terminalProgress{w: w, start: time.Now(), width: max(width, 20)}
}

func (p *terminalProgress) notification(n mcp.JSONRPCNotification) {
	if n.Method != string(mcp.MethodNotificationProgress) {
		return
	}
	msg, _ := n.Params.AdditionalFields["message"].(string)
	if msg == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	line := fmt.Sprintf("[%5.1fs] %s", time.Since(p.start).Seconds(), oneLine(msg))
	if r := []rune(line); len(r) > p.width-1 {
		line = string(r[:p.width-2]) + "…"
	}
	if strings.HasPrefix(msg, "writing: ") {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.shown = true
		return
	}
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
	fmt.Fprintln(p.w, line)
}

// clear removes the rolling line and stops rendering. It is safe on nil.
func (p *terminalProgress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
	p.done = true
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}
