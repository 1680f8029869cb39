package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// do sends method path with headers (and Host, when not "") to srv's
// server, and returns the answer's status, headers and body.
func do(t *testing.T, base, method, path, host string, headers map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestHostAndOriginGuard: a request for a name that is not loopback (a
// page's DNS rebinding) and one a browser sends for another page are
// refused with 403 before they reach the queue; --allow-remote lifts the
// first check, --cors names the pages let in, which get CORS answers
// (issue 27, item 5).
func TestHostAndOriginGuard(t *testing.T) {
	f := &fakeCompleter{text: "x", started: make(chan struct{}, 8)}
	srv := newFakeServer(t, f, Options{})
	fill := `{"prompt": "a"}`
	for _, host := range []string{"evil.example", "evil.example:8012", "0.0.0.0:8012", "10.0.0.1", "localhost.evil.example"} {
		status, _, body := do(t, srv.URL, "POST", "/v1/completions", host, nil, fill)
		if status != 403 || !strings.Contains(body, "permission_error") || !strings.Contains(body, "--allow-remote") {
			t.Errorf("Host %s: %d %s, want 403 naming --allow-remote", host, status, body)
		}
	}
	for _, host := range []string{"localhost", "LOCALHOST:8012", "127.0.0.1", "127.1.2.3:99", "[::1]:8012", "dfim.localhost:8012"} {
		if status, _, body := do(t, srv.URL, "POST", "/v1/completions", host, nil, fill); status != 200 {
			t.Errorf("Host %s: %d %s, want 200", host, status, body)
		}
	}
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Origin": "null"},
		{"Origin": "http://localhost:3000"},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		for _, path := range []string{"/v1/completions", "/infill", "/v1/models", "/health"} {
			method, body := "POST", fill
			if path == "/v1/models" || path == "/health" {
				method, body = "GET", ""
			}
			status, hdr, answer := do(t, srv.URL, method, path, "", h, body)
			if status != 403 || !strings.Contains(answer, "--cors") || hdr.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s with %v: %d %s, want 403 naming --cors, no CORS header", method, path, h, status, answer)
			}
		}
	}
	started := len(f.started)
	if started != len([]string{"localhost", "LOCALHOST:8012", "127.0.0.1", "127.1.2.3:99", "[::1]:8012", "dfim.localhost:8012"}) {
		t.Errorf("%d fills started, want only the loopback hosts' (refused requests must not reach the engine)", started)
	}
	// Tools and editors send neither: served.
	if status, _, _ := do(t, srv.URL, "GET", "/v1/models", "", map[string]string{"Sec-Fetch-Site": "none"}, ""); status != 200 {
		t.Errorf("a URL typed in the address bar (Sec-Fetch-Site none): %d, want 200", status)
	}

	// --allow-remote: any name, but still no foreign pages.
	remote := newFakeServer(t, f, Options{AllowAnyHost: true})
	if status, _, _ := do(t, remote.URL, "GET", "/v1/models", "dfim.example.org:8012", nil, ""); status != 200 {
		t.Errorf("AllowAnyHost, Host dfim.example.org: %d, want 200", status)
	}
	if status, _, _ := do(t, remote.URL, "GET", "/v1/models", "", map[string]string{"Origin": "https://evil.example"}, ""); status != 403 {
		t.Errorf("AllowAnyHost, a foreign page: %d, want 403", status)
	}

	// --cors: the named page gets its preflight and CORS headers.
	cors := newFakeServer(t, f, Options{CORSOrigins: []string{"http://localhost:3000/", "https://Editor.Example"}})
	status, hdr, _ := do(t, cors.URL, "OPTIONS", "/v1/completions", "", map[string]string{
		"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}, "")
	if status != 204 || hdr.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		!strings.Contains(hdr.Get("Access-Control-Allow-Methods"), "POST") || hdr.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
		t.Errorf("preflight: %d %v, want 204 allowing the origin, POST and its headers", status, hdr)
	}
	status, hdr, body := do(t, cors.URL, "POST", "/v1/completions", "", map[string]string{"Origin": "https://editor.example", "Sec-Fetch-Site": "cross-site"}, fill)
	if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "https://editor.example" || !strings.Contains(hdr.Get("Vary"), "Origin") {
		t.Errorf("fill from an allowed page: %d %v %s, want 200 with Access-Control-Allow-Origin", status, hdr, body)
	}
	if status, _, _ := do(t, cors.URL, "OPTIONS", "/v1/completions", "", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, ""); status != 403 {
		t.Errorf("preflight of another page: %d, want 403", status)
	}
	anyOrigin := newFakeServer(t, f, Options{CORSOrigins: []string{"*"}})
	if status, hdr, _ := do(t, anyOrigin.URL, "GET", "/v1/models", "", map[string]string{"Origin": "https://a.example"}, ""); status != 200 || hdr.Get("Access-Control-Allow-Origin") != "https://a.example" {
		t.Errorf("--cors '*': %d %v, want 200 with the origin allowed", status, hdr)
	}
	if n := metricValue(t, srv.URL, `dfim_http_rejected_total{reason="origin_not_allowed"}`); n < 1 {
		t.Errorf("/metrics counts %v refused origins", n)
	}
}

// TestValidOrigin: what --cors takes.
func TestValidOrigin(t *testing.T) {
	for o, want := range map[string]bool{
		"*": true, "http://localhost:3000": true, "https://editor.example": true, "https://editor.example/": true,
		"editor.example": false, "https://editor.example/path": false, "": false, "http://": false,
	} {
		if got := ValidOrigin(o); got != want {
			t.Errorf("ValidOrigin(%q) = %v, want %v", o, got, want)
		}
	}
}
