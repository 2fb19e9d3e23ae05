package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// ToolListModels is the name of the tool that lists the models the gateway
// offers.
const ToolListModels = "list_models"

var listModelsTool = newTool(toolDef{
	name: ToolListModels, title: "List models",
	description: "List the models the gateway offers (only those clawgate may select when it runs with --allow-model). " +
		`Use an id from here for patch_session_model or ask_subagent. Example: {"provider": "anthropic"}.`,
	readOnly: true, idempotent: true,
}, (*tools).listModels)

// ListModelsInput optionally filters list_models.
type ListModelsInput struct {
	Provider string `json:"provider,omitempty" jsonschema:"description=Only models of this provider.,example=anthropic"`
}

// ListModelsOutput lists the models the gateway offers.
type ListModelsOutput struct {
	Models []ModelOut `json:"models" jsonschema:"description=Models; pass id to patch_session_model or ask_subagent."`
}

// ModelOut is one model in list_models.
type ModelOut struct {
	ID            string `json:"id" jsonschema:"description=provider/model key.,example=anthropic/claude-sonnet-4-5"`
	Name          string `json:"name,omitempty" jsonschema:"description=Display name."`
	Provider      string `json:"provider,omitempty" jsonschema:"description=Provider id."`
	Alias         string `json:"alias,omitempty" jsonschema:"description=Short name the gateway also accepts for this model.,example=sonnet"`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window in tokens."`
}

func (t *tools) listModels(ctx context.Context, _ mcp.CallToolRequest, in ListModelsInput) (ListModelsOutput, string, error) {
	models, err := t.allowedModels(ctx, in.Provider)
	if err != nil {
		return ListModelsOutput{}, "", err
	}
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	return ListModelsOutput{Models: models}, fmt.Sprintf("%s: %s", countOf(len(models), "model", "models"), strings.Join(ids, ", ")), nil
}
