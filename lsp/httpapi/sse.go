package httpapi

import (
	"encoding/json"
	"net/http"
)

// An sseWriter writes server-sent events: one "data:" line of JSON an
// event, flushed at once. Not safe for concurrent use.
type sseWriter struct {
	w   http.ResponseWriter
	f   http.Flusher
	err error // the first write error (the client left)
}

// startSSE sends the headers of an event stream.
func startSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	s := &sseWriter{w: w, f: f}
	s.flush()
	return s
}

func (s *sseWriter) flush() {
	if s.f != nil && s.err == nil {
		s.f.Flush()
	}
}

func (s *sseWriter) write(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

// event sends v as one event.
func (s *sseWriter) event(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.err = err
		return
	}
	s.write([]byte("data: "))
	s.write(b)
	s.write([]byte("\n\n"))
	s.flush()
}

// comment sends an SSE comment (clients ignore it; it keeps proxies from
// timing the stream out and shows the stream has started).
func (s *sseWriter) comment(text string) {
	s.write([]byte(": " + text + "\n\n"))
	s.flush()
}

// done sends OpenAI's end marker.
func (s *sseWriter) done() {
	s.write([]byte("data: [DONE]\n\n"))
	s.flush()
}
