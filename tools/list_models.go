package tools

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// ToolListModels is the name of the tool that lists the models the gateway
// offers.
const ToolListModels = "list_models"

var listModelsTool = newTool(toolDef{
	name: ToolListModels, title: "List models",
	description: "List the models the gateway offers, with whether a session may select each one (selectable: the gateway's model policy and clawgate's --allow-model), " +
		"its context window, and its price per million input/output tokens where the gateway's configuration has one, so that you can pick the cheapest selectable model. " +
		`Use an id (or alias) from here for patch_session_model or ask_subagent. Example: {"provider": "anthropic"}.`,
	readOnly: true, idempotent: true,
}, (*tools).listModels)

// ListModelsInput optionally filters list_models.
type ListModelsInput struct {
	Provider string `json:"provider,omitempty" jsonschema:"description=Only models of this provider.,example=anthropic"`
}

// ListModelsOutput lists the models the gateway offers.
type ListModelsOutput struct {
	Models []ModelOut `json:"models" jsonschema:"description=Models in the gateway's order; pass id (or alias) of a selectable one to patch_session_model or ask_subagent."`
	Notes  []string   `json:"notes,omitempty" jsonschema:"description=What the list cannot say\\, and why: e.g. that Clawdbot does not report which models it allows\\, or that prices are missing because the gateway did not give its configuration."`
}

// ModelOut is one model in list_models.
type ModelOut struct {
	ID            string `json:"id" jsonschema:"description=provider/model key.,example=anthropic/claude-sonnet-4-5"`
	Name          string `json:"name,omitempty" jsonschema:"description=Display name."`
	Provider      string `json:"provider,omitempty" jsonschema:"description=Provider id."`
	Alias         string `json:"alias,omitempty" jsonschema:"description=Short name the gateway also accepts for this model.,example=sonnet"`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window in tokens."`
	// Selectable is nil when it cannot be known (see its description).
	Selectable          *bool          `json:"selectable,omitempty" jsonschema:"description=true: a session may select this model (the gateway's model policy allows it and so does clawgate's --allow-model). false: it would be refused; not_selectable_reason says by whom. Absent: unknown\\, because the gateway does not report its allowlist (Clawdbot: only its default model is known to be allowed)\\, so selecting it may be refused."`
	NotSelectableReason string         `json:"not_selectable_reason,omitempty" jsonschema:"description=Set when selectable is false. gateway: the gateway's model policy (OpenClaw agents.defaults.modelPolicy / agents.defaults.models) refuses it; allow_model: this clawgate's --allow-model refuses it; gateway_and_allow_model: both.,enum=gateway,enum=allow_model,enum=gateway_and_allow_model"`
	Price               *ModelPriceOut `json:"price,omitempty" jsonschema:"description=Price in US dollars per million tokens as configured on the gateway (models.providers.<provider>.models[].cost). Absent when the gateway's configuration has no price for this model (models of built-in catalogs usually have none there) or could not be read (see notes); never estimated by clawgate."`
}

// ModelPriceOut is a model's configured price in US dollars per million
// tokens; each field is present only when the gateway's configuration sets
// it.
type ModelPriceOut struct {
	InputPerMTok      *float64 `json:"input_per_mtok,omitempty" jsonschema:"description=US dollars per million input (prompt) tokens.,example=3"`
	OutputPerMTok     *float64 `json:"output_per_mtok,omitempty" jsonschema:"description=US dollars per million output (completion) tokens.,example=15"`
	CacheReadPerMTok  *float64 `json:"cache_read_per_mtok,omitempty" jsonschema:"description=US dollars per million tokens read from the prompt cache.,example=0.3"`
	CacheWritePerMTok *float64 `json:"cache_write_per_mtok,omitempty" jsonschema:"description=US dollars per million tokens written to the prompt cache.,example=3.75"`
}

// Reasons a model is not selectable (ModelOut.NotSelectableReason).
const (
	notSelectableGateway    = "gateway"
	notSelectablePolicy     = "allow_model"
	notSelectableGatewayAnd = "gateway_and_allow_model"
)

func (t *tools) listModels(ctx context.Context, _ mcp.CallToolRequest, in ListModelsInput) (ListModelsOutput, string, error) {
	list, err := t.gw.ModelsList(ctx)
	if err != nil {
		return ListModelsOutput{}, "", err
	}
	var notes []string
	// Whether the gateway allows a model that models.list does not mark:
	// OpenClaw's default view is its allowed catalog (true); Clawdbot lists
	// its whole catalog and allows only what its unreadable allowlist says,
	// and always its default model.
	listedAllowed, clawdbotDefault := false, ""
	if info, err := t.gw.Info(ctx); err == nil {
		if info.Capabilities().ModelAllowlist {
			listedAllowed = true
		} else {
			clawdbotDefault = t.defaultModel(ctx)
			def := "Its default model is always allowed."
			if clawdbotDefault != "" {
				def = fmt.Sprintf("Its default model (%s) is always allowed.", safetext.Line(clawdbotDefault))
			}
			notes = append(notes, "This gateway (Clawdbot) lists its whole catalog and does not report which models its allowlist "+
				"(agents.defaults.models in its config) lets a session select, so selectable is absent where it is unknown: selecting such a model may be refused. "+def)
		}
	}
	prices, priceNote := t.modelPrices(ctx)
	if priceNote != "" {
		notes = append(notes, priceNote)
	}

	out := ListModelsOutput{Models: make([]ModelOut, 0, len(list.Models)), Notes: notes}
	for _, m := range list.Models {
		if in.Provider != "" && !strings.EqualFold(m.Provider, in.Provider) {
			continue
		}
		ref := m.Ref()
		mo := ModelOut{ID: safetext.Line(ref), Name: safetext.Line(m.Name), Provider: safetext.Line(m.Provider),
			Alias: safetext.Line(m.Alias), ContextWindow: m.ContextWindow.Count(), Price: priceOf(prices, ref)}
		gatewayAllows := m.ManualSelectionAllowed
		if gatewayAllows == nil && (listedAllowed || (clawdbotDefault != "" && strings.EqualFold(ref, clawdbotDefault))) {
			gatewayAllows = boolp(true)
		}
		mo.Selectable, mo.NotSelectableReason = selectability(gatewayAllows, t.cfg.AllowModels.Allows(ref))
		out.Models = append(out.Models, mo)
	}
	return out, listModelsText(out), nil
}

// selectability combines what the gateway says (nil: unknown) with
// --allow-model into ModelOut's selectable and not_selectable_reason.
func selectability(gatewayAllows *bool, policyAllows bool) (*bool, string) {
	gatewayRefuses := gatewayAllows != nil && !*gatewayAllows
	switch {
	case gatewayRefuses && !policyAllows:
		return boolp(false), notSelectableGatewayAnd
	case gatewayRefuses:
		return boolp(false), notSelectableGateway
	case !policyAllows:
		return boolp(false), notSelectablePolicy
	case gatewayAllows == nil:
		return nil, ""
	}
	return boolp(true), ""
}

// modelPrices reads the configured model prices, waiting at most
// costWait. Prices are extra: when they cannot be read, the list goes on
// without them and the note says why.
func (t *tools) modelPrices(ctx context.Context) (map[string]schema.ModelPrice, string) {
	wait := costWait()
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	prices, err := t.gw.ModelPrices(pctx)
	switch {
	case err == nil:
		return prices, ""
	case ctx.Err() != nil:
		return nil, ""
	case errors.Is(pctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Sprintf("Prices are missing: the gateway did not give its configuration (config.get) within %s; call list_models again for them.", wait)
	}
	return nil, "Prices are missing: " + safetext.Text(Explain(err))
}

// priceOf is ref's configured price, or nil. Provider ids are compared
// case-insensitively, as the gateways normalise them.
func priceOf(prices map[string]schema.ModelPrice, ref string) *ModelPriceOut {
	p, ok := prices[ref]
	if !ok {
		for k, v := range prices {
			if strings.EqualFold(k, ref) {
				p, ok = v, true
				break
			}
		}
	}
	if !ok || (p.Input == nil && p.Output == nil && p.CacheRead == nil && p.CacheWrite == nil) {
		return nil
	}
	return &ModelPriceOut{InputPerMTok: p.Input, OutputPerMTok: p.Output, CacheReadPerMTok: p.CacheRead, CacheWritePerMTok: p.CacheWrite}
}

// listModelsText is list_models' text: the ids, each with its price and
// whether it may be selected when that is known to be no, then the
// cheapest selectable priced model (by input + output price per million
// tokens) and the notes.
func listModelsText(out ListModelsOutput) string {
	var b strings.Builder
	b.WriteString(countOf(len(out.Models), "model", "models"))
	var cheapest *ModelOut
	for i, m := range out.Models {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(m.ID)
		var extra []string
		if m.Price != nil {
			extra = append(extra, m.Price.String())
		}
		if m.Selectable != nil && !*m.Selectable {
			extra = append(extra, "not selectable: "+reasonText(m.NotSelectableReason))
		}
		if len(extra) > 0 {
			b.WriteString(" (" + strings.Join(extra, "; ") + ")")
		}
		if m.Selectable != nil && *m.Selectable && m.Price.total() >= 0 && (cheapest == nil || m.Price.total() < cheapest.Price.total()) {
			cheapest = &out.Models[i]
		}
	}
	b.WriteString(".")
	if cheapest != nil {
		fmt.Fprintf(&b, " Cheapest selectable model (by input + output price): %s.", cheapest.ID)
	}
	for _, n := range out.Notes {
		b.WriteString(" " + n)
	}
	return b.String()
}

// total is input plus output price, the measure "cheapest" uses, or -1
// when either is unknown.
func (p *ModelPriceOut) total() float64 {
	if p == nil || p.InputPerMTok == nil || p.OutputPerMTok == nil {
		return -1
	}
	return *p.InputPerMTok + *p.OutputPerMTok
}

// String is e.g. "$3 in / $15 out per million tokens".
func (p *ModelPriceOut) String() string {
	var parts []string
	if p.InputPerMTok != nil {
		parts = append(parts, usd(*p.InputPerMTok)+" in")
	}
	if p.OutputPerMTok != nil {
		parts = append(parts, usd(*p.OutputPerMTok)+" out")
	}
	if p.CacheReadPerMTok != nil {
		parts = append(parts, usd(*p.CacheReadPerMTok)+" cache read")
	}
	if p.CacheWritePerMTok != nil {
		parts = append(parts, usd(*p.CacheWritePerMTok)+" cache write")
	}
	return strings.Join(parts, " / ") + " per million tokens"
}

// reasonText words a not_selectable_reason for the text result.
func reasonText(reason string) string {
	switch reason {
	case notSelectableGateway:
		return "the gateway's model policy"
	case notSelectablePolicy:
		return "--allow-model"
	case notSelectableGatewayAnd:
		return "the gateway's model policy and --allow-model"
	}
	return reason
}

// usd formats US dollars for a text, to six significant digits and
// without an exponent: "$0.00001", "$0.029361" (for 0.029360999999999998),
// "$1234.57". Structured results carry the gateway's value as it is.
func usd(v float64) string {
	if v != 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
		if d := 6 - int(math.Ceil(math.Log10(math.Abs(v)))); d > 0 && d < 300 {
			p := math.Pow(10, float64(d))
			v = math.Round(v*p) / p
		} else if d <= 0 {
			v = math.Round(v)
		}
	}
	return "$" + strconv.FormatFloat(v, 'f', -1, 64)
}

func boolp(v bool) *bool { return &v }
