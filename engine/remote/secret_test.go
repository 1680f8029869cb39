package remote

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// TestKeyTransportDecision: a key may go over https anywhere, and over
// plain http only to a loopback address. (httptest listens on 127.0.0.1,
// so the refusals are checked on the decision itself.)
func TestKeyTransportDecision(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:8080":         true,
		"http://127.8.9.10/v1":          true,
		"http://[::1]:8000/v1":          true,
		"http://localhost:8080/infill":  true,
		"http://LocalHost:8080":         true,
		"https://192.168.1.5:8443":      true,
		"https://api.inceptionlabs.ai":  true,
		"http://192.168.1.5:8080":       false,
		"http://10.0.0.2/v1":            false,
		"http://[fe80::1]:8080":         false,
		"http://gpu-box.lan:8000/v1":    false,
		"http://localhost.evil.com:80":  false,
		"http://127.0.0.1.nip.io:8080":  false,
		"HTTP://192.168.1.5:8080/v1":    false,
		"http://user:pw@192.168.1.5:80": false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		err = keyTransportError("openai", u, openaiKeyEnv, true)
		if (err == nil) != ok {
			t.Errorf("%s: %v; want allowed %v", raw, err, ok)
			continue
		}
		if err != nil {
			for _, want := range []string{"plain http", "use https", "loopback address", "unset OPENAI_API_KEY"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %q lacks %q", raw, err, want)
				}
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("%s: the message shows the URL's password: %q", raw, err)
			}
		}
	}
}

// TestKeyRefusedOverPlainHTTP: an engine with a key from the environment
// does not open on a plain http endpoint of another machine (before, fill,
// batch and eval with --endpoint http://LAN-HOST sent the key there); it
// opens without a key, over https, and on loopback, where the key goes.
func TestKeyRefusedOverPlainHTTP(t *testing.T) {
	const secret = "sk-do-not-leak"
	for _, tc := range []struct {
		backend, env string
		open         func(engine.Config, tuning) (*remoteEngine, error)
	}{
		{"inception", inceptionKeyEnv, newInception},
		{"openai", openaiKeyEnv, newOpenAI},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			t.Setenv(tc.env, secret)
			_, err := tc.open(engine.Config{Endpoint: "http://192.168.1.5:8080"}, fastTuning(nil))
			if err == nil || !strings.Contains(err.Error(), "use https") || !strings.Contains(err.Error(), tc.env) {
				t.Fatalf("open on http://192.168.1.5:8080 with %s set: %v; want a refusal naming https and %s", tc.env, err, tc.env)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the refusal shows the key: %v", err)
			}
			// The key given in the configuration is held to the same rule.
			t.Setenv(tc.env, "")
			if _, err := tc.open(engine.Config{Endpoint: "http://192.168.1.5:8080", APIKey: secret}, fastTuning(nil)); err == nil ||
				!strings.Contains(err.Error(), "configured API key") {
				t.Errorf("open on plain http with Config.APIKey: %v; want a refusal", err)
			}
			// No key: nothing to protect.
			if e, err := tc.open(engine.Config{Endpoint: "http://192.168.1.5:8080"}, fastTuning(nil)); err != nil {
				t.Errorf("open without a key: %v", err)
			} else {
				e.Close()
			}
			t.Setenv(tc.env, secret)
			if e, err := tc.open(engine.Config{Endpoint: "https://192.168.1.5:8443"}, fastTuning(nil)); err != nil {
				t.Errorf("open over https: %v", err)
			} else {
				e.Close()
			}

			// On loopback the key goes.
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, completion("x")) })
			e, err := tc.open(engine.Config{Endpoint: s.URL}, fastTuning(nil))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if _, err := e.Infill(context.Background(), canvas("a", "b", 4)); err != nil {
				t.Fatal(err)
			}
			if got := s.lastHeader().Get("Authorization"); got != "Bearer "+secret {
				t.Errorf("Authorization on loopback = %q, want the key", got)
			}
		})
	}
}

// TestKeyNotRedirectedToPlainHTTP: a server that redirects the request to
// plain http on another machine does not get the key sent there (Go keeps
// Authorization on a same-host redirect, https to http included).
func TestKeyNotRedirectedToPlainHTTP(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		// 192.0.2.1 is TEST-NET-1: nothing answers there.
		http.Redirect(w, r, "http://192.0.2.1:9"+r.URL.Path, http.StatusTemporaryRedirect)
	})
	e := inceptionAt(t, s.URL, "sk-do-not-leak", fastTuning(nil))
	start := time.Now()
	_, err := e.Infill(context.Background(), canvas("a", "b", 4))
	if !errors.Is(err, errKeyRedirect) || !strings.Contains(err.Error(), "https address") {
		t.Fatalf("Infill through a redirect to plain http: %v; want it refused", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the refusal took %v: the redirect was tried", d)
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("%d requests to the server, want 1 (a refused redirect is not retried)", n)
	}
}
