package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// An apiError is an error answer in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}}, sent with Status.
type apiError struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"` // a field name, or null
	Code    any    `json:"code"`  // a short machine-readable string, or null
}

func (e *apiError) Error() string { return e.Message }

// Error types, as OpenAI names them.
const (
	typeInvalid   = "invalid_request_error"
	typeAuth      = "authentication_error"
	typeNotFound  = "not_found_error"
	typeRateLimit = "rate_limit_error"
	typeServer    = "server_error"
	typeLoading   = "unavailable_error" // llama.cpp's, for 503 while the model loads
)

func invalidf(param string, format string, args ...any) *apiError {
	e := &apiError{Status: http.StatusBadRequest, Type: typeInvalid, Message: fmt.Sprintf(format, args...)}
	if param != "" {
		e.Param = param
	}
	return e
}

func tooLarge(code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Type: typeInvalid, Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeError sends e as JSON.
func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dfim"`)
	}
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(struct {
		Error *apiError `json:"error"`
	}{e})
}
