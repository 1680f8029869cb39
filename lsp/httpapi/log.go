package httpapi

import (
	"net/http"
	"time"

	"go.uber.org/zap"
)

// A logWriter is the ResponseWriter of one request: it keeps what the
// request's log line says (the status sent, and what the fill endpoints
// note: tokens written, why a fill came back empty).
type logWriter struct {
	http.ResponseWriter
	start  time.Time
	status int

	// Set by the fill endpoints.
	endpoint string
	recorded int // the status metrics recorded (499: the client left)
	tokens   int
	note     string // why a fill came back empty, or why it failed
}

func (w *logWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes flushes on (server-sent events need them).
func (w *logWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines).
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequest writes the request's log line: fill requests and refusals at
// info, the polled GET endpoints (/health, /metrics, /v1/models) when
// answered at debug. It names the client by address (and key hash), never
// the request's text.
func (s *Server) logRequest(w *logWriter, r *http.Request) {
	status := w.status
	if w.recorded != 0 {
		status = w.recorded
	}
	if status == 0 {
		status = http.StatusOK
	}
	endpoint := w.endpoint
	if endpoint == "" {
		endpoint = endpointName(r.URL.Path)
	}
	fields := []zap.Field{zap.String("client", clientKey(r)), zap.String("method", r.Method), zap.String("endpoint", endpoint),
		zap.Int("status", status), zap.Int("tokens", w.tokens),
		zap.Float64("ms", float64(time.Since(w.start).Microseconds())/1000)}
	if w.note != "" {
		fields = append(fields, zap.String("why", w.note))
	}
	level := zap.InfoLevel
	if w.endpoint == "" && status < 300 {
		level = zap.DebugLevel
	}
	s.log.Log(level, "http request", fields...)
}
