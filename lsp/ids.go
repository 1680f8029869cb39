package lsp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"

	"go.lsp.dev/jsonrpc2"
)

// jsonrpc2 (go.lsp.dev v0.10.0) keeps a number id in an int32 and reads
// the string id "" as the number 0, so a request with id 2^31 failed to
// parse (and was answered with id null) and one with id "" was answered
// as 0. Such an id travels through jsonrpc2 as a stand-in: a string id
// made of idMarker and the id's JSON text, turned back into that text in
// the reply.
const idMarker = "\x00dfim-id:"

// requestID is the jsonrpc2 id of the JSON request id raw: numbers that
// are whole (whatever their spelling: 7, 7.0, 7e0) and strings. Ids
// jsonrpc2 cannot hold get a stand-in. ok is false for any other JSON.
func requestID(raw json.RawMessage) (jsonrpc2.ID, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return jsonrpc2.ID{}, false
	}
	if raw[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return jsonrpc2.ID{}, false
		}
		if str == "" || strings.HasPrefix(str, idMarker) {
			return jsonrpc2.NewStringID(idMarker + string(mustMarshalBytes(str))), true
		}
		return jsonrpc2.NewStringID(str), true
	}
	var num json.Number
	if json.Unmarshal(raw, &num) != nil {
		return jsonrpc2.ID{}, false
	}
	r, ok := new(big.Rat).SetString(num.String())
	if !ok || !r.IsInt() {
		return jsonrpc2.ID{}, false
	}
	n := r.Num()
	if n.IsInt64() && n.Int64() >= math.MinInt32 && n.Int64() <= math.MaxInt32 {
		return jsonrpc2.NewNumberID(int32(n.Int64())), true
	}
	return jsonrpc2.NewStringID(idMarker + n.String()), true
}

// standIn returns the JSON text a stand-in id stands for.
func standIn(id jsonrpc2.ID) (string, bool) {
	return strings.CutPrefix(fmt.Sprint(id), idMarker)
}

func mustMarshalBytes(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// envelope is the part of a message read to check its id and method.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method *string         `json:"method"`
}

// withID returns the message data with its top-level id replaced.
func withID(data []byte, id json.RawMessage) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["id"] = id
	return json.Marshal(m)
}

// screen looks at a message jsonrpc2 may have misread. It returns the data
// to decode instead (a stand-in id put in), or a reply to send in place of
// handling the message (a request with an empty method, which jsonrpc2
// takes for a response and drops, or an id that is not an integer or a
// string), or neither.
func screen(data []byte, msg jsonrpc2.Message, decodeErr error) (fixed, reply []byte) {
	switch m := msg.(type) {
	case *jsonrpc2.Response: // or a request whose method is ""
	case *jsonrpc2.Call:
		if m.ID() != (jsonrpc2.ID{}) {
			return nil, nil // id 0 may have been "": look
		}
	default:
		if decodeErr == nil {
			return nil, nil
		}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return nil, nil // not a JSON object: as decoded
	}
	env := envelope{ID: fields["id"]}
	if len(env.ID) == 0 || string(env.ID) == "null" {
		return nil, nil // a notification: as decoded
	}
	if raw, ok := fields["method"]; ok && string(raw) != "null" {
		var m string
		if json.Unmarshal(raw, &m) != nil {
			return nil, errorReply(idOrNull(env.ID), jsonrpc2.InvalidRequest, "dfim: a request's method must be a string, got "+clip(raw))
		}
		env.Method = &m
	} else {
		// An id without a method is a response only when it carries a
		// result or an error; otherwise it is a request whose method is
		// missing or null, which jsonrpc2 drops as a response to nothing,
		// and the client would wait for its reply forever.
		_, result := fields["result"]
		_, failed := fields["error"]
		if result || failed {
			return nil, nil // a response
		}
		return nil, errorReply(idOrNull(env.ID), jsonrpc2.InvalidRequest, "dfim: a request needs a method")
	}
	id, ok := requestID(env.ID)
	switch {
	case !ok:
		return nil, errorReply(nil, jsonrpc2.InvalidRequest, "dfim: a request id must be an integer or a string, got "+clip(env.ID))
	case *env.Method == "":
		return nil, errorReply(env.ID, jsonrpc2.InvalidRequest, "dfim: a request needs a method")
	}
	var canon json.RawMessage
	switch _, stood := standIn(id); {
	case stood:
		canon = mustMarshalBytes(fmt.Sprint(id))
	case decodeErr != nil && env.ID[0] != '"':
		canon = json.RawMessage(fmt.Sprint(id)) // 7.0 or 7e0: jsonrpc2 reads only 7
	default:
		return nil, nil
	}
	fixed, err := withID(data, canon)
	if err != nil {
		return nil, nil
	}
	return fixed, nil
}

// replyID puts back the id a stand-in stood for in an outgoing reply.
func replyID(msg jsonrpc2.Message, data []byte) []byte {
	resp, ok := msg.(*jsonrpc2.Response)
	if !ok {
		return data
	}
	orig, ok := standIn(resp.ID())
	if !ok {
		return data
	}
	if fixed, err := withID(data, json.RawMessage(orig)); err == nil {
		return fixed
	}
	return data
}

// idOrNull is id when it is a valid request id (an integer or a string),
// else nil: a reply must not echo an id that is not one.
func idOrNull(id json.RawMessage) json.RawMessage {
	if _, ok := requestID(id); ok {
		return id
	}
	return nil
}

// errorReply is an error response to id (null when nil).
func errorReply(id json.RawMessage, code jsonrpc2.Code, message string) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      id,
		"error":   map[string]any{"code": code, "message": message},
	})
	return b
}
