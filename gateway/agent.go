package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clawgate/clawgate/schema"
)

// abortTimeout bounds the abort sent when a run is cancelled or times out.
const abortTimeout = 5 * time.Second

// AgentRequest describes one agent run. Timeout is the run's own timeout on
// the gateway (0: the gateway's default); clawgate waits for it plus
// AgentGrace before giving up, or until ctx ends, whichever comes first.
type AgentRequest struct {
	Message           string
	SessionKey        string
	AgentID           string
	Thinking          string
	ExtraSystemPrompt string
	Label             string
	// Lane is the gateway's queue lane of the run ("subagent"; see
	// Capabilities.SubagentLane), empty for the default.
	Lane    string
	Timeout time.Duration
	// Provider and Model choose the model of this run alone (needs
	// Capabilities.RunModel); the session's stored model is untouched.
	Provider, Model string
	// ModelRun makes the run one plain model call: no tools, no workspace
	// files, no history, nothing stored (needs Capabilities.ModelRun).
	ModelRun bool
	// PromptMode and BootstrapContextMode shape the agent's prompt
	// (schema.PromptMode*, schema.BootstrapLightweight; need
	// Capabilities.PromptModes).
	PromptMode, BootstrapContextMode string
	// Detached runs are left going on the gateway when the client closes
	// (no abort at Close, none when the wait ends because of it), so that
	// another client can collect them (agent.wait, chat.history).
	Detached bool
	// OnAccepted, if set, is called once, on Agent's goroutine, when the
	// gateway has accepted the run, with the run id and the session key
	// (the accepted frame's, else SessionKey); not at all when the run is
	// refused or its first frame is its last.
	OnAccepted func(runID, sessionKey string)
	// AbortWait bounds how long Agent waits for the gateway to confirm
	// the abort of a run it stops waiting for (default 5 s). A caller with
	// a wall-clock promise to keep sets it to the time it has left; the
	// abort request is sent either way.
	AbortWait time.Duration
}

// AgentRun is the outcome of a finished run. Reply.Status is "ok", "error"
// or "timeout" (protocol 4 reports an aborted or timed-out run with ok:true).
type AgentRun struct {
	RunID         string
	SessionKey    string // from the accepted reply when the gateway sends it
	Reply         *schema.AgentReply
	Elapsed       time.Duration
	DroppedEvents int64 // events not delivered because the callback lagged
}

// RunError means an agent run did not deliver a final result: the caller
// cancelled, the run's deadline passed, or the connection died. It says
// whether clawgate managed to abort the run on the gateway.
type RunError struct {
	RunID    string
	Elapsed  time.Duration
	Cause    error
	Aborted  bool  // the gateway confirmed the abort
	AbortErr error // why the abort failed or was not possible
}

func (e *RunError) Error() string {
	s := fmt.Sprintf("agent run %s ended after %s without a result: %v", e.RunID, e.Elapsed.Round(time.Millisecond), e.Cause)
	switch {
	case e.Aborted:
		s += "; the run was aborted on the gateway"
	case e.AbortErr != nil:
		s += fmt.Sprintf("; it could not be aborted (%v)", e.AbortErr)
	}
	return s
}

func (e *RunError) Unwrap() error { return e.Cause }

// ErrRunTimeout is the cause of a RunError when the run outlived its timeout
// plus grace.
var ErrRunTimeout = errors.New("the run exceeded its timeout")

// Agent starts an agent run and waits for its final result. Each of the
// run's events is passed to onEvent (may be nil) as it arrives, on one
// goroutine, in order; other runs' events are ignored, and onEvent is never
// called after Agent returns. The acceptance is bounded like an ordinary
// call; the final result by ctx and by req.Timeout + AgentGrace. When ctx
// ends or the deadline passes, the run is aborted on the gateway (where the
// gateway can abort runs: Capabilities.AbortRuns) and a *RunError is
// returned.
func (c *Client) Agent(ctx context.Context, req AgentRequest, onEvent func(schema.AgentEvent)) (*AgentRun, error) {
	start := time.Now()
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("generate run id: %w", err)
	}
	runID := id.String()
	params := schema.AgentParams{
		Message:              req.Message,
		IdempotencyKey:       runID,
		SessionKey:           req.SessionKey,
		AgentID:              req.AgentID,
		Thinking:             req.Thinking,
		ExtraSystemPrompt:    req.ExtraSystemPrompt,
		Label:                req.Label,
		Lane:                 req.Lane,
		Timeout:              int((req.Timeout + time.Second - 1) / time.Second),
		Provider:             req.Provider,
		Model:                req.Model,
		ModelRun:             req.ModelRun,
		PromptMode:           req.PromptMode,
		BootstrapContextMode: req.BootstrapContextMode,
	}

	// runCtx ends with ctx or the client's lifetime; the acceptance is
	// bounded like an ordinary call, the final result by the run's own
	// timeout plus grace (without one, by runCtx alone).
	runCtx, cancelRun := c.bound(ctx, 0)
	defer cancelRun()
	acceptCtx, cancelAccept := withTimeout(runCtx, c.opts.CallTimeout)
	defer cancelAccept()
	cn, err := c.connection(acceptCtx)
	if err != nil {
		return nil, err
	}
	// The agent schemas are closed: a key the gateway does not know fails
	// the call, so one this gateway cannot take is refused here, unsent.
	if err := cn.caps.check(params); err != nil {
		return nil, err
	}
	sub := cn.subscribe(runID)
	defer cn.unsubscribe(runID)
	stopPump := pumpEvents(sub, onEvent)
	defer stopPump()

	if !req.Detached {
		defer c.trackRun(runID, req.SessionKey)() // before sending: Close may come at once
	}
	reqID, pc, err := cn.send("agent", params, true)
	if err != nil {
		return nil, err
	}
	defer cn.forget(reqID) // the request's frames are all in once the final one is
	run := &AgentRun{RunID: runID, SessionKey: req.SessionKey}

	// One loop for every frame: the first is bounded by acceptCtx, those
	// after the acceptance by waitCtx. Each is decoded once, payload
	// straight into reply, and the decoded status, never a byte match, says
	// whether the run was accepted and the final result is still to come.
	var (
		reply       schema.AgentReply
		r           response
		accepted    bool
		waitCtx     = acceptCtx
		cancelFinal = context.CancelFunc(func() {})
	)
	defer func() { cancelFinal() }()
	for {
		frame, err := cn.await(waitCtx, pc)
		if err == nil {
			reply = schema.AgentReply{}
			var status, sessionKey string
			r, status, sessionKey = cn.agentFrame(frame, &reply)
			if r.malformed() {
				err = cn.newError("agent", r.Error) // the run may be going: abort it
			} else if r.OK && status == schema.RunAccepted {
				// Any other frame, first or not, is the last (docs/protocol.md
				// §3.7); a repeated acceptance is skipped.
				if !accepted {
					accepted = true
					if sessionKey != "" {
						run.SessionKey = sessionKey
					}
					if req.OnAccepted != nil {
						req.OnAccepted(runID, run.SessionKey)
					}
					waitCtx = runCtx
					if req.Timeout > 0 {
						waitCtx, cancelFinal = withTimeout(runCtx, req.Timeout+c.opts.AgentGrace)
					}
				}
				continue
			}
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && runCtx.Err() == nil {
				if accepted {
					err = ErrRunTimeout
				} else {
					err = &TimeoutError{Method: "agent", After: time.Since(start), What: "acceptance"}
				}
			}
			if req.Detached && c.life.Err() != nil {
				// The client closed: leave the run going for another client.
				return nil, &RunError{RunID: runID, Elapsed: time.Since(start), Cause: err,
					AbortErr: errors.New("clawgate closed; the run goes on on the gateway")}
			}
			return nil, c.interrupted(run, start, err, req.AbortWait)
		}
		break
	}
	run.Elapsed = time.Since(start)
	stopPump()
	run.DroppedEvents = sub.dropped.Load()
	if len(r.Payload) > 0 {
		if err := json.Unmarshal(r.Payload, &reply); err != nil {
			return nil, fmt.Errorf("decode agent result: %w", err)
		}
	}
	if !r.OK {
		return nil, cn.newError("agent", r.Error)
	}
	if reply.RunID == "" {
		reply.RunID = runID
	}
	run.Reply = &reply
	return run, nil
}

// agentFrame decodes one response frame of an agent request, its payload
// into reply, and returns the run's status and session key as the frame
// gives them: from reply, or, when the payload did not fit reply (r.Payload
// is set), from the fields of the payload that decode.
func (c *conn) agentFrame(frame []byte, reply *schema.AgentReply) (r response, status, sessionKey string) {
	r = c.decodeResponse(frame, reply)
	if r.Payload == nil {
		return r, reply.Status, reply.SessionKey
	}
	var p schema.AgentReply
	_ = json.Unmarshal(r.Payload, &p) // what decodes of a payload of the wrong shape
	return r, p.Status, p.SessionKey
}

// interrupted aborts a run that will not be waited for any longer (unless
// the connection is gone), waiting up to wait (0: abortTimeout) for the
// gateway to confirm, and builds the RunError.
func (c *Client) interrupted(run *AgentRun, start time.Time, cause error, wait time.Duration) error {
	aborted, abortErr := c.abortInterrupted(run, cause, wait)
	return &RunError{RunID: run.RunID, Elapsed: time.Since(start), Cause: cause, Aborted: aborted, AbortErr: abortErr}
}

// abortInterrupted aborts the run of an interrupted Agent call and reports
// whether the gateway confirmed it, or why it did not.
func (c *Client) abortInterrupted(run *AgentRun, cause error, wait time.Duration) (aborted bool, abortErr error) {
	var lost *ConnLostError
	if errors.As(cause, &lost) {
		return false, errors.New("the connection is gone; the run may still be going on the gateway")
	}
	if wait <= 0 {
		wait = abortTimeout
	}
	ctx, cancel := c.bound(context.Background(), wait)
	res, err := c.AbortRun(ctx, run.SessionKey, run.RunID)
	cancel()
	switch {
	case err != nil:
		return false, err
	case res.DidAbort():
		return true, nil
	}
	return false, errors.New("the gateway found no such running run (it may have just finished)")
}

// pumpEvents delivers sub's events to onEvent on one goroutine. The returned
// stop function delivers what is already queued, ends delivery and waits for
// the goroutine; it may be called more than once.
func pumpEvents(sub *runSub, onEvent func(schema.AgentEvent)) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		deliver := func(ev schema.AgentEvent) {
			if onEvent != nil {
				onEvent(ev)
			}
		}
		for {
			select {
			case <-stop:
				// Events queued before the final reply belong before the
				// result: deliver them, then stop.
				for {
					select {
					case ev := <-sub.events:
						deliver(ev)
					default:
						return
					}
				}
			case ev := <-sub.events:
				deliver(ev)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(stop) })
		<-done
	}
}
