package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// RequestCancelled is the LSP error code of a request cancelled by $/cancelRequest.
const RequestCancelled jsonrpc2.Code = -32800

// handlers maps each method dfim implements to its handler. Handlers run on
// the connection's read loop, one at a time and in arrival order, so that
// lifecycle and document changes are applied in the order sent; slow work
// (completions) moves to a goroutine with goAsync.
var handlers map[string]func(*Server, *request)

func init() {
	handlers = map[string]func(*Server, *request){
		protocol.MethodInitialize:                      (*Server).initialize,
		protocol.MethodInitialized:                     (*Server).initialized,
		protocol.MethodShutdown:                        (*Server).shutdown,
		protocol.MethodTextDocumentDidOpen:             (*Server).didOpen,
		protocol.MethodTextDocumentDidChange:           (*Server).didChange,
		protocol.MethodTextDocumentDidClose:            (*Server).didClose,
		protocol.MethodTextDocumentDidSave:             (*Server).didSave,
		protocol.MethodTextDocumentCompletion:          (*Server).completion,
		MethodInlineCompletion:                         (*Server).inlineCompletion,
		protocol.MethodWorkspaceDidChangeConfiguration: (*Server).didChangeConfiguration,
		protocol.MethodWorkspaceExecuteCommand:         (*Server).executeCommand,
		protocol.MethodCancelRequest:                   (*Server).cancelRequest,
		"$/setTrace":                                   func(*Server, *request) {},
		MethodStats:                                    (*Server).stats,
		MethodCopilotInlineEdit:                        (*Server).copilotInlineEdit,
		MethodDidFocus:                                 func(*Server, *request) {},
		MethodDidShowInlineEdit:                        func(*Server, *request) {},
	}
}

// A request is one incoming call or notification.
type request struct {
	s      *Server
	method string
	params json.RawMessage
	id     *jsonrpc2.ID // nil for a notification
	// uri names the document the request is about, for logs.
	uri     protocol.DocumentURI
	reply   jsonrpc2.Replier
	replied atomic.Bool
	// async is set by goAsync: the reply comes from its goroutine.
	async bool
}

// respond answers a call once; later answers and answers to notifications
// are dropped.
func (r *request) respond(result any, err error) {
	if r.id == nil || !r.replied.CompareAndSwap(false, true) {
		return
	}
	var werr *jsonrpc2.Error
	if err != nil && !errors.As(err, &werr) {
		err = jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
	}
	// The stream ignores ctx; Background keeps a cancelled session's last
	// replies flowing.
	if err := r.reply(context.Background(), result, err); err != nil {
		r.s.log.Debug("reply not sent", zap.String("method", r.method), zap.Error(err))
	}
}

// recoverPanic turns a handler panic into a log line and an InternalError.
func (r *request) recoverPanic() {
	p := recover()
	if p == nil {
		return
	}
	r.s.log.Error("handler panicked", zap.String("method", r.method), zap.String("document", string(r.uri)),
		zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
	r.s.counters.fail(r.method, fmt.Sprint(p))
	r.respond(nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "dfim: internal error in %s: %v", r.method, p))
}

// handle is the jsonrpc2 handler. It never returns an error: that would end
// the connection.
func (s *Server) handle(_ context.Context, reply jsonrpc2.Replier, msg jsonrpc2.Request) error {
	r := &request{s: s, method: msg.Method(), params: msg.Params(), reply: reply}
	if call, ok := msg.(*jsonrpc2.Call); ok {
		id := call.ID()
		r.id = &id
	}
	defer r.recoverPanic()
	if r.method == protocol.MethodExit {
		r.respond(nil, nil) // exit sent with an id still gets its one reply
		s.exit()
		return nil
	}
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	switch {
	case state == stateNew && r.method != protocol.MethodInitialize:
		r.respond(nil, jsonrpc2.Errorf(jsonrpc2.ServerNotInitialized, "dfim: %s before initialize", r.method))
		return nil
	case state == stateShutdown:
		r.respond(nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "dfim: %s after shutdown", r.method))
		return nil
	case state == stateExited:
		return nil
	}
	h, ok := handlers[r.method]
	if !ok {
		s.unimplemented(r)
		return nil
	}
	h(s, r)
	// A notification method sent with an id ($/setTrace, didSave, ...) is
	// still a request: every request gets exactly one reply.
	if r.id != nil && !r.async {
		r.respond(nil, nil)
	}
	return nil
}

// work is one request running in the background.
type work struct {
	method  string
	uri     protocol.DocumentURI
	version int32
	cancel  context.CancelFunc
	// byClient is set when $/cancelRequest cancelled it: the reply is then
	// RequestCancelled instead of an empty result.
	byClient atomic.Bool
}

// goAsync runs fn in a goroutine registered under r's id, so that
// $/cancelRequest, a newer version of uri, or a newer request of the same
// method on uri can cancel it. A request cancelled by the client is
// answered RequestCancelled; one overtaken by the user's typing gets empty.
// An error of type *jsonrpc2.Error from fn is the reply; other errors are
// logged and answered with empty.
func (s *Server) goAsync(r *request, uri protocol.DocumentURI, version int32, empty any, fn func(context.Context) (any, error)) {
	r.async = true
	ctx, cancel := context.WithCancel(s.ctx)
	w := &work{method: r.method, uri: uri, version: version, cancel: cancel}
	s.mu.Lock()
	for _, old := range s.inflight {
		if old.uri == uri && old.method == r.method {
			old.cancel()
		}
	}
	if r.id != nil {
		s.inflight[*r.id] = w
	}
	s.mu.Unlock()
	s.counters.requests.Add(1)
	go func() {
		defer func() {
			cancel()
			s.mu.Lock()
			if r.id != nil && s.inflight[*r.id] == w {
				delete(s.inflight, *r.id)
			}
			s.mu.Unlock()
		}()
		defer r.recoverPanic()
		res, err := fn(ctx)
		var rpcErr *jsonrpc2.Error
		switch {
		case w.byClient.Load():
			r.respond(nil, jsonrpc2.NewError(RequestCancelled, "dfim: request cancelled"))
		case errors.As(err, &rpcErr):
			// A failure fn words for the user (executeCommand's).
			r.respond(nil, rpcErr)
		case ctx.Err() != nil:
			r.respond(empty, nil)
		case err != nil:
			// Empty for the editor; counted, so dfim/stats shows it.
			s.counters.fail(r.method, err.Error())
			s.log.Warn("request failed", zap.String("method", r.method), zap.String("document", string(uri)), zap.Error(err))
			r.respond(empty, nil)
		default:
			r.respond(res, nil)
		}
	}()
}

// cancelDocument cancels work on uri older than version (all work on uri
// when version is -1).
func (s *Server) cancelDocument(uri protocol.DocumentURI, version int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.inflight {
		if w.uri == uri && (version < 0 || w.version < version) {
			w.cancel()
		}
	}
}

// cancelAll cancels every request in flight.
func (s *Server) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.inflight {
		w.cancel()
	}
}
