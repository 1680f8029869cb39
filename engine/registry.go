package engine

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Config is what a backend needs to open. Fields a backend does not use are ignored.
type Config struct {
	Model       string        // native: path to a GGUF file; "" = built-in model
	Threads     int           // native: worker threads; 0 = all cores
	Batch       int           // native: concurrent requests stepped together (sharing forward passes); 0 = the engine's default, 1 = one at a time
	Endpoint    string        // remote: base URL
	RemoteModel string        // remote: model name sent to the server
	APIKey      string        // remote: key; backends also read their env variable
	Timeout     time.Duration // remote: per-request timeout
}

// Factory opens a backend.
type Factory func(Config) (Denoiser, error)

// registry guards backends.
var registry struct {
	mu       sync.Mutex
	backends map[string]Factory
}

// Register makes a backend available by name. Backends call it from init.
func Register(name string, f Factory) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.backends == nil {
		registry.backends = map[string]Factory{}
	}
	if _, dup := registry.backends[name]; dup {
		panic("engine: backend registered twice: " + name)
	}
	registry.backends[name] = f
}

// Open opens the named backend.
func Open(name string, cfg Config) (Denoiser, error) {
	registry.mu.Lock()
	f, ok := registry.backends[name]
	registry.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("engine: unknown engine %q (known: %v); pass --engine with one of them", name, Names())
	}
	return f(cfg)
}

// Names lists the registered backends, sorted.
func Names() []string {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	var names []string
	for n := range registry.backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
