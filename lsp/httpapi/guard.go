package httpapi

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Who may call the APIs: requests addressed to this machine by a loopback
// name, unless Options.AllowAnyHost, and from a web page only when its
// origin is one of Options.CORSOrigins. A browser lets any page send
// requests to 127.0.0.1; without these checks a page could fill the queue,
// and one whose name it rebinds to 127.0.0.1 (DNS rebinding) could read
// the fills, and with them the code its requests name.

// typePermission is the error type of 403 answers, as OpenAI names it.
const typePermission = "permission_error"

// origins are the allowed web origins, normalized ("*": any).
type origins struct {
	any  bool
	list map[string]bool
}

func newOrigins(list []string) origins {
	o := origins{list: map[string]bool{}}
	for _, x := range list {
		if x == "*" {
			o.any = true
			continue
		}
		o.list[normalizeOrigin(x)] = true
	}
	return o
}

func (o origins) allowed(origin string) bool {
	return o.any || o.list[normalizeOrigin(origin)]
}

// normalizeOrigin lowercases an origin's scheme and host and drops a
// trailing slash, as browsers send it.
func normalizeOrigin(origin string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(origin)), "/")
}

// ValidOrigin checks an origin given to --cors: "*", or scheme://host
// with an optional port and nothing after it.
func ValidOrigin(origin string) bool {
	if origin == "*" {
		return true
	}
	u, err := url.Parse(strings.TrimSuffix(origin, "/"))
	return err == nil && u.Scheme != "" && u.Host != "" && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// loopbackHost reports whether the Host header hostport names this
// machine by a loopback name: localhost (and names under .localhost,
// which resolvers keep on this machine), 127.0.0.0/8 or ::1, with any
// port. An empty Host (HTTP/1.0) is not a browser's.
func loopbackHost(hostport string) bool {
	if hostport == "" {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard checks the Host and Origin of r before anything else is done
// with it. It returns the 403 to send, or answered true when it has
// answered a CORS preflight; for an allowed origin it sets the CORS
// headers of the answer.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) (refused *apiError, answered bool) {
	if !s.opts.AllowAnyHost && !loopbackHost(r.Host) {
		return &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "host_not_allowed",
			Message: "refused a request for host " + quoteHeader(r.Host) + ": dfim serve --http answers only requests addressed to localhost, 127.0.0.1 or [::1] " +
				"(another name may be a web page's DNS rebinding); connect by one of those, or start dfim serve with --allow-remote (and --api-key-file) to answer other names"}, false
	}
	origin := r.Header.Get("Origin")
	site := strings.ToLower(r.Header.Get("Sec-Fetch-Site"))
	if origin == "" {
		if site == "cross-site" || site == "same-site" {
			return &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "origin_not_allowed",
				Message: "refused a request a browser sent for another site's page (Sec-Fetch-Site: " + site + ", no Origin): " +
					"dfim serve answers web pages only from the origins named with --cors ORIGIN"}, false
		}
		if r.Method == http.MethodOptions {
			return &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "origin_not_allowed",
				Message: "OPTIONS is a CORS preflight and needs an Origin header; the APIs take GET and POST"}, false
		}
		return nil, false
	}
	if !s.origins.allowed(origin) {
		return &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "origin_not_allowed",
			Message: "refused a request from the web page at " + quoteHeader(origin) + ": dfim serve answers browsers only for the origins named with --cors; " +
				"if this page should use it, restart dfim serve with --cors " + quoteHeader(origin)}, false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	if r.Method != http.MethodOptions {
		return nil, false
	}
	// A preflight: say what the page may send.
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	allowHeaders := r.Header.Get("Access-Control-Request-Headers")
	if allowHeaders == "" {
		allowHeaders = "Authorization, Content-Type"
	}
	h.Set("Access-Control-Allow-Headers", allowHeaders)
	h.Add("Vary", "Access-Control-Request-Headers")
	if strings.EqualFold(r.Header.Get("Access-Control-Request-Private-Network"), "true") {
		h.Set("Access-Control-Allow-Private-Network", "true") // Chrome's Private Network Access
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return nil, true
}

// quoteHeader quotes a header value for a message, cut short.
func quoteHeader(v string) string {
	if len(v) > 100 {
		v = v[:100] + "..."
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < ' ' || r == '"' || r == 0x7f {
			return '?'
		}
		return r
	}, v) + `"`
}
