package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// route is the engine's current route.
func (e *remoteEngine) route() route {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rt
}

// routeFor is the route for the next fill. The openai engine looks at the
// server first, once it answers (and again every probeEvery until it
// does, unless the breaker is open), and chooses the route from what it
// learns (chooseLocked).
func (e *remoteEngine) routeFor(ctx context.Context) route {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.detect || e.root.url == "" || e.probed || time.Since(e.probeAt) < probeEvery || e.c.breaker.isOpen() {
		return e.rt
	}
	e.probeAt = time.Now()
	info, answered := e.probe(ctx)
	if ctx.Err() != nil && !answered {
		e.probeAt = time.Time{} // the caller left: that says nothing about the server
		return e.rt
	}
	e.probed = answered
	if answered || info.flavor != flavorOpenAI {
		if info.nCtx == 0 {
			info.nCtx = e.info.nCtx // what a refused prompt taught
		}
		e.info = info
		e.chooseLocked()
	}
	return e.rt
}

// chooseLocked moves to the route that carries the suffix on the server
// e.info describes: /infill on llama.cpp (its /v1/completions drops the
// suffix field), the model's FIM template on servers that refuse the
// field. A template or "suffix" forced with DFIM_FIM_TEMPLATE, and an
// endpoint that names /infill, are kept.
func (e *remoteEngine) chooseLocked() {
	switch {
	case e.info.flavor == flavorLlamaCpp && e.rt.api == apiCompletions && !e.rt.tmplSet:
		e.rt = route{api: apiInfill, to: target{e.root.url + "/infill", e.root.shown + "/infill"}}
		e.logRouteLocked("llama.cpp's /v1/completions drops the suffix field: filling through /infill")
	case e.info.flavor == flavorLlamaCpp && e.rt.api == apiCompletions && e.rt.tmpl == nil:
		e.logRouteLocked(templateEnv + "=suffix: sending the suffix field, which llama.cpp's /v1/completions drops")
	case e.info.flavor == flavorNoSuffix && e.rt.api == apiCompletions && !e.rt.tmplSet && templateFor(e.modelNameLocked()) != nil:
		e.rt.tmpl, e.rt.tmplSet = templateFor(e.modelNameLocked()), true
		e.logRouteLocked(e.info.name + " refuses the suffix field: writing the model's FIM template")
	default:
		e.logRouteLocked("looked at the server")
	}
}

// logger is where the engine logs (at debug level: which route it chose
// and why).
func (e *remoteEngine) logger() *slog.Logger {
	if e.log != nil {
		return e.log
	}
	return slog.Default()
}

// logRouteLocked logs the current route and why it was chosen.
func (e *remoteEngine) logRouteLocked(why string) {
	server := e.info.name
	if server == "" {
		server = "unknown"
	}
	e.logger().Debug("remote: route", "engine", e.name, "why", why, "server", server,
		"api", e.rt.api.String(), "url", e.rt.to.shown, "template", e.templateNameLocked(),
		"model", e.modelNameLocked(), "n_ctx", e.info.nCtx)
}

// templateNameLocked says what writes the FIM prompt on the current route.
func (e *remoteEngine) templateNameLocked() string {
	switch {
	case e.rt.api == apiInfill:
		return "llama.cpp's, from the model's FIM tokens"
	case e.rt.api == apiFIM:
		return "the service's"
	case e.rt.tmpl != nil:
		return e.rt.tmpl.name
	}
	return "the suffix field"
}

// routeNameLocked is the route in a few words, for Describe.
func (e *remoteEngine) routeNameLocked() string {
	if e.rt.api == apiCompletions {
		if e.rt.tmpl != nil {
			return e.rt.api.String() + " with the " + e.rt.tmpl.name + " template"
		}
		return e.rt.api.String() + " with suffix"
	}
	s := e.rt.api.String()
	if e.info.nCtx > 0 {
		s += fmt.Sprintf(", %d-token context", e.info.nCtx)
	}
	return s
}

// modelName is the model's name as dfim knows it: --remote-model, or what
// the server said it runs.
func (e *remoteEngine) modelName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.modelNameLocked()
}

func (e *remoteEngine) modelNameLocked() string {
	if e.model != "" {
		return e.model
	}
	return e.info.model
}

// learnTemplate moves /v1/completions to the FIM template t, for this and
// later fills, and returns the new route.
func (e *remoteEngine) learnTemplate(t *fimTemplate, why string) route {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rt.tmpl, e.rt.tmplSet = t, true
	e.logRouteLocked(why)
	return e.rt
}

// setNoN records that the server gives one candidate a request.
func (e *remoteEngine) setNoN(refused error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.rt.noN {
		e.rt.noN = true
		e.logger().Debug("remote: the server refused several candidates in one request; asking one at a time",
			"engine", e.name, "answer", refused.Error())
	}
}

// llamaCpp reports whether the server is llama.cpp.
func (e *remoteEngine) llamaCpp() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.info.flavor == flavorLlamaCpp
}

// learnContext records the context size a refused prompt reported.
func (e *remoteEngine) learnContext(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.info.nCtx = n
}

func (e *remoteEngine) isConfirmed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.confirmed
}

func (e *remoteEngine) confirm() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.confirmed = true
}

// explain adds what only the engine knows to an error's hint: the models
// a server offers, when it refused the model name (llama.cpp's router:
// 400 "model name is missing from the request", "model 'x' not found").
func (e *remoteEngine) explain(err error) error {
	var re *Error
	if err == nil || !errors.As(err, &re) {
		return err
	}
	if p := modelProblem(re); p == "missing" || p == "unknown" {
		if models := e.serverModels(); len(models) > 0 {
			if len(models) > 8 {
				models = append(models[:8:8], "…")
			}
			re.Hint += "; it offers " + strings.Join(models, ", ")
		}
	}
	return err
}

// serverModels lists the models the server offers (GET /v1/models), from
// the look at it or, after a refused model name, asked for then.
func (e *remoteEngine) serverModels() []string {
	e.mu.Lock()
	models := e.info.models
	e.mu.Unlock()
	if len(models) > 0 || e.root.url == "" {
		return models
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	var m modelsJSON
	if st, _, err := e.c.ask(ctx, e.root.url+"/v1/models", nil, &m); st != 200 || err != nil {
		return nil
	}
	for _, d := range m.Data {
		models = append(models, d.ID)
	}
	e.mu.Lock()
	e.info.models = models
	e.mu.Unlock()
	return models
}
