package remote

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// keyTransportError refuses to send an API key to u when u is plain http
// to another machine, where anyone on the way could read it: a key goes
// over https, or over http only to a loopback address. fromEnv says the
// key came from the environment variable keyEnv (else from Config.APIKey).
// It returns nil when the key may go.
func keyTransportError(backend string, u *url.URL, keyEnv string, fromEnv bool) error {
	if !strings.EqualFold(u.Scheme, "http") || IsLoopback(u.Hostname()) {
		return nil
	}
	source, unset := "the configured API key", "remove the key from the configuration"
	if fromEnv {
		source, unset = "the API key in "+keyEnv, "unset "+keyEnv
	}
	return fmt.Errorf("engine %s: the endpoint %s is plain http to another machine, and dfim sends %s over http "+
		"only to a loopback address (127.0.0.1, ::1, localhost); use https, or a loopback address (an SSH tunnel "+
		"such as ssh -L 8080:localhost:8080 HOST, then http://127.0.0.1:8080), or %s if that server needs none",
		backend, u.Redacted(), source, unset)
}

// IsLoopback reports whether host (a URL's Hostname) names this machine:
// localhost, or an address in 127.0.0.0/8 or ::1. The command line asks it
// too, for the addresses it listens on and the endpoints clients name.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errKeyRedirect is why a redirect that would carry the key over plain
// http to another machine was not followed.
var errKeyRedirect = errors.New("redirected to plain http on another machine, which would expose the API key")

// keyRedirects is an http.Client's CheckRedirect for a client with a key:
// Go keeps the Authorization header on a redirect to the same host, so a
// server redirecting https to http would otherwise get the key in clear.
func keyRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if strings.EqualFold(req.URL.Scheme, "http") && !IsLoopback(req.URL.Hostname()) {
		return fmt.Errorf("%w (%s)", errKeyRedirect, req.URL.Redacted())
	}
	return nil
}
