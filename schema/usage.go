package schema

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

// ConfigPrices decodes only the model prices of a config.get result.
type ConfigPrices struct {
	Config struct {
		Models struct {
			Providers map[string]struct {
				Models []struct {
					ID   string      `json:"id"`
					Cost *ModelPrice `json:"cost,omitempty"`
				} `json:"models"`
			} `json:"providers"`
		} `json:"models"`
	} `json:"config"`
}

// Prices maps "provider/model" to the configured price of each model that
// has one.
func (c *ConfigPrices) Prices() map[string]ModelPrice {
	out := map[string]ModelPrice{}
	for prov, p := range c.Config.Models.Providers {
		for _, m := range p.Models {
			if m.Cost != nil && m.ID != "" {
				out[ModelRef(prov, m.ID)] = *m.Cost
			}
		}
	}
	return out
}
