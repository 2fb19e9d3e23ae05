package gatewaysim

import (
	"encoding/json"
	"net"
	"strconv"
)

// redacted is how OpenClaw's config.get shows secrets.
const redacted = "__OPENCLAW_REDACTED__"

// fakeAPIKey is the raw provider apiKey a Clawdbot fake's config.get shows
// for providers that are not in the recording: Clawdbot does not redact.
const fakeAPIKey = "gatewaysim-fake-api-key"

// catalogEntry is one model of the fake's config.
type catalogEntry struct {
	ref, name, alias string
	contextWindow    int
	price            *Price
}

// catalog returns the configured models: DefaultModel (as recorded unless
// Options.Models lists it) and Options.Models, in that order.
func (s *Server) catalog() []catalogEntry {
	def := catalogEntry{ref: DefaultModel, name: "Fake Echo", alias: "Fake", contextWindow: 128000, price: &Price{}}
	var rest []catalogEntry
	for _, m := range s.opts.Models {
		ref, ok := resolveModelRef(m.Ref, nil)
		if !ok {
			continue
		}
		e := catalogEntry{ref: ref, name: m.Name, alias: m.Alias, contextWindow: m.ContextWindow, price: m.Price}
		if e.contextWindow == 0 {
			e.contextWindow = 200000
		}
		if e.name == "" {
			_, e.name = splitModel(ref)
		}
		if ref == DefaultModel {
			if e.alias == "" {
				e.alias = def.alias
			}
			def = e
			continue
		}
		rest = append(rest, e)
	}
	return append([]catalogEntry{def}, rest...)
}

// configGet answers config.get with the recorded payload, its model
// catalog (models.providers, agents.defaults.models and the fallbacks)
// rebuilt from the fake's options in every copy of the config it holds
// (config, parsed, resolved, ...), and raw re-rendered from parsed.
// OpenClaw redacts secrets; Clawdbot shows them raw (its gateway token is
// the fake's token, other providers' apiKey an obviously fake value).
func (s *Server) configGet() obj {
	res := cloneObj(s.tpl.config)
	for k, v := range res {
		if cfg, ok := v.(obj); ok && sub(sub(cfg, "models"), "providers") != nil {
			res[k] = s.rebuildConfig(cfg)
		}
	}
	if parsed := sub(res, "parsed"); parsed != nil {
		if _, ok := res["raw"].(string); ok {
			b, _ := json.MarshalIndent(parsed, "", "  ")
			res["raw"] = string(b)
		}
	}
	return res
}

// rebuildConfig rewrites one recorded copy of the config.
func (s *Server) rebuildConfig(cfg obj) obj {
	providers := sub(sub(cfg, "models"), "providers")
	tplProv := sub(providers, "fake")
	var tplModel obj
	raw := false // a copy as written: there a model without a price has no cost entry
	for name, p := range providers {
		po, _ := p.(obj)
		list, _ := po["models"].([]any)
		for _, x := range list {
			m, _ := x.(obj)
			if _, ok := m["cost"]; !ok {
				raw = true
			}
			if name == "fake" && str(m, "id") == "fake-echo" {
				tplModel = m
			}
		}
	}
	if tplProv == nil || tplModel == nil {
		return cfg
	}
	newProviders := obj{}
	for _, e := range s.catalog() {
		prov, id := splitModel(e.ref)
		p := sub(newProviders, prov)
		if p == nil {
			p = cloneObj(tplProv)
			if prov != "fake" {
				p["baseUrl"] = "https://" + prov + ".gatewaysim.invalid/v1"
				if p["apiKey"] != redacted {
					p["apiKey"] = fakeAPIKey
				}
			}
			p["models"] = []any{}
			newProviders[prov] = p
		}
		m := cloneObj(tplModel)
		m["id"], m["name"], m["contextWindow"] = id, e.name, e.contextWindow
		switch {
		case e.price != nil:
			m["cost"] = obj{"input": e.price.Input, "output": e.price.Output, "cacheRead": e.price.CacheRead,
				"cacheWrite": e.price.CacheWrite}
		case raw:
			delete(m, "cost")
		default:
			m["cost"] = obj{"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}
		}
		p["models"] = append(p["models"].([]any), m)
	}
	sub(cfg, "models")["providers"] = newProviders

	if defaults := sub(sub(cfg, "agents"), "defaults"); defaults != nil {
		models := obj{}
		for _, e := range s.catalog() {
			entry := obj{}
			if e.alias != "" {
				entry["alias"] = e.alias
			}
			models[e.ref] = entry
		}
		for _, a := range s.opts.AllowedModels {
			if ref, ok := resolveModelRef(a, nil); ok && models[ref] == nil {
				models[ref] = obj{}
			}
		}
		defaults["models"] = models
		if model := sub(defaults, "model"); model != nil {
			delete(model, "fallbacks")
			if served, ok := s.fallbackFor(DefaultModel); ok {
				model["fallbacks"] = []any{served}
			}
		}
	}
	if gw := sub(cfg, "gateway"); gw != nil {
		if _, port, err := net.SplitHostPort(s.addr); err == nil {
			if n, err := strconv.Atoi(port); err == nil {
				gw["port"] = n
			}
		}
		if auth := sub(gw, "auth"); auth != nil && auth["token"] != redacted {
			auth["token"] = s.opts.Token
		}
	}
	return cfg
}
