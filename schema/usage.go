package schema

import "strings"

// UsageCost is the usage.cost result of either generation: tokens and cost
// in US dollars per day (Date "YYYY-MM-DD", the gateway's local date) and in
// total over the window.
type UsageCost struct {
	Daily  []UsageDay `json:"daily"`
	Totals *UsageDay  `json:"totals,omitempty"`
}

// UsageDay is one day (or the totals) of usage.cost.
type UsageDay struct {
	Date               string   `json:"date,omitempty"`
	Input              Int      `json:"input"`
	Output             Int      `json:"output"`
	CacheRead          Int      `json:"cacheRead"`
	CacheWrite         Int      `json:"cacheWrite"`
	TotalTokens        Int      `json:"totalTokens"`
	TotalCost          *float64 `json:"totalCost,omitempty"`
	MissingCostEntries Int      `json:"missingCostEntries"`
}

// ModelPrice is a configured model's price in US dollars per million
// tokens; a nil field has no price.
type ModelPrice struct {
	Input      *float64 `json:"input,omitempty"`
	Output     *float64 `json:"output,omitempty"`
	CacheRead  *float64 `json:"cacheRead,omitempty"`
	CacheWrite *float64 `json:"cacheWrite,omitempty"`
}

// configModels is the part of a config that holds the model catalog.
type configModels struct {
	Models struct {
		Providers map[string]struct {
			Models []struct {
				ID   string      `json:"id"`
				Cost *ModelPrice `json:"cost,omitempty"`
			} `json:"models"`
		} `json:"providers"`
	} `json:"models"`
}

// ConfigPrices decodes only the model prices of a config.get result: from
// the config as written (parsed) and as the gateway completed it (config).
// The completed config gives a model without a cost entry zero prices
// (OpenClaw 2026.9), so a price written in the file wins, and a model the
// file does not list (an included file's) takes the completed one.
type ConfigPrices struct {
	Parsed configModels `json:"parsed"`
	Config configModels `json:"config"`
}

// Prices maps "provider/model" to the configured price of each model that
// has one.
func (c *ConfigPrices) Prices() map[string]ModelPrice {
	out := map[string]ModelPrice{}
	written := map[string]bool{}
	for prov, p := range c.Parsed.Models.Providers {
		for _, m := range p.Models {
			if m.ID == "" {
				continue
			}
			ref := ModelRef(prov, m.ID)
			written[ref] = true
			if m.Cost != nil {
				out[ref] = *m.Cost
			}
		}
	}
	for prov, p := range c.Config.Models.Providers {
		for _, m := range p.Models {
			if ref := ModelRef(prov, m.ID); m.Cost != nil && m.ID != "" && !written[ref] {
				out[ref] = *m.Cost
			}
		}
	}
	return out
}

// ConfigAliases decodes only the model aliases of a config.get result.
type ConfigAliases struct {
	Config struct {
		Agents struct {
			Defaults struct {
				Models map[string]struct {
					Alias string `json:"alias,omitempty"`
				} `json:"models"`
			} `json:"defaults"`
		} `json:"agents"`
	} `json:"config"`
}

// Aliases maps each configured alias, in lower case, to its
// "provider/model".
func (c *ConfigAliases) Aliases() map[string]string {
	out := map[string]string{}
	for ref, m := range c.Config.Agents.Defaults.Models {
		if a := strings.ToLower(strings.TrimSpace(m.Alias)); a != "" {
			out[a] = ref
		}
	}
	return out
}
