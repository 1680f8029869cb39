package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dfim/dfim/index"
	"github.com/dfim/dfim/infill"
)

// DefaultMaxDocumentBytes is the size above which a document is not completed.
const DefaultMaxDocumentBytes = 8 << 20

// Options configure a Server.
type Options struct {
	// Completer answers completions. When nil, Load opens one in the
	// background after initialize (with progress shown to the client) and
	// completion requests wait for it.
	Completer infill.Filler
	// Load opens a completer for the engine and model of s. It is called at
	// startup when Completer is nil and again when a client changes the
	// engine or model setting. Nil: those settings cannot change.
	Load func(ctx context.Context, s Settings) (infill.Filler, error)
	// Settings are the initial settings (from flags); clients override
	// them. The zero value means DefaultSettings().
	Settings Settings
	// Engines lists the valid engine names for settings validation.
	Engines []string
	// Logger receives the server's logs (never stdout). Nil: no logs.
	Logger *zap.Logger
	// LogToClient sends the log to the client as window/logMessage, with
	// each entry's level, from initialize on; Logger takes it before then
	// (logmessage.go). For stdio, where a client shows stderr as errors.
	LogToClient bool
	// Level, when set, follows the logLevel setting.
	Level *zap.AtomicLevel
	// MaxDocumentBytes: larger documents get empty results. 0: the default.
	MaxDocumentBytes int
	// Version is reported in serverInfo.
	Version string
	// IndexBudget caps what the workspace indexes of all the sessions
	// given the same Options hold together (files, bytes, watched
	// folders): one server's, not each session's. Nil: the caps of one
	// index for this session alone.
	IndexBudget *index.Budget
	// OnInitialize, when set, is called once initialize succeeded (with
	// the token, when one is needed), before its reply goes out: a
	// transport can then lift the short deadline of a session that has
	// not shown the token yet.
	OnInitialize func()
	// Token, when set, is a secret the client must send as
	// initializationOptions.token (`serve --listen` with a shared token):
	// an initialize without it is refused and the connection closed.
	Token string
}

// ErrExitWithoutShutdown is returned by Serve when the client sent exit
// before shutdown; the process should then exit with code 1.
var ErrExitWithoutShutdown = errors.New("lsp: client sent exit before shutdown")

// lifecycle is where a session is between initialize and exit.
type lifecycle int

const (
	stateNew lifecycle = iota
	stateInitialized
	stateShutdown
	stateExited
)

// A Server is one LSP session over one connection.
type Server struct {
	opts Options
	log  *zap.Logger
	// clientLog, with LogToClient, forwards log entries to the client.
	clientLog *clientLog
	conn      jsonrpc2.Conn
	// ctx lives as long as the session; replies and notifications use it.
	ctx    context.Context
	cancel context.CancelFunc

	// counters count requests and failures for dfim/stats.
	counters counters

	// applyMu serializes applySettings.
	applyMu sync.Mutex

	// ixMu guards the workspace index fields below, and orders buffer
	// edits against the index's view of open documents. Never taken while
	// holding mu (the other way round is fine).
	ixMu       sync.Mutex
	ix         *index.Index // nil until the first scan has started, and after shutdown
	ixStarting bool
	ixClosed   bool // shut down: no index is started again

	// mu guards the fields below it.
	mu           sync.Mutex
	state        lifecycle
	shutdownSeen bool
	enc          Encoding
	settings     Settings
	docs         map[protocol.DocumentURI]*document
	inflight     map[jsonrpc2.ID]*work
	reported     map[string]bool // setting errors already shown to the user
	completer    infill.Filler
	ready        chan struct{} // closed when completer is set (or failed to load)
	loadErr      error
	progressOK   bool // client supports window/workDoneProgress
	docChangesOK bool // client supports versioned documentChanges in a WorkspaceEdit
	configPull   bool // client answers workspace/configuration
	configSeq    int  // workspace/configuration requests sent; only the latest answer applies
	loading      bool
	progressSeq  int
	indexRoot    string // the workspace folder to index; "" for none
	// edits are each open document's recent edits, newest last, for
	// next-edit suggestions (inline_edit.go).
	edits map[protocol.DocumentURI][]infill.Edit
}

// NewServer returns a server; call Serve to run it on a connection.
func NewServer(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.MaxDocumentBytes <= 0 {
		opts.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if reflect.DeepEqual(opts.Settings, Settings{}) {
		opts.Settings = DefaultSettings()
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		enc:      UTF16,
		settings: opts.Settings,
		docs:     map[protocol.DocumentURI]*document{},
		edits:    map[protocol.DocumentURI][]infill.Edit{},
		inflight: map[jsonrpc2.ID]*work{},
		reported: map[string]bool{},
		ready:    make(chan struct{}),
	}
	if opts.Completer != nil {
		s.completer = opts.Completer
		close(s.ready)
	}
	if opts.LogToClient {
		s.clientLog = &clientLog{}
		s.log = s.log.WithOptions(zap.WrapCore(s.clientLog.wrap))
	}
	return s
}

// Serve runs the session on rwc until the client sends exit or the
// connection closes. It returns nil after shutdown then exit,
// ErrExitWithoutShutdown after exit alone, or the transport's error.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) error {
	s.ctx, s.cancel = context.WithCancel(ctx)
	defer s.cancel()
	st := newStream(rwc, s.log)
	// Frames are held to maxFrameBeforeInit until initialize succeeds,
	// which it signals through OnInitialize before its reply goes out.
	onInit := s.opts.OnInitialize
	s.opts.OnInitialize = func() {
		st.initialized.Store(true)
		if onInit != nil {
			onInit()
		}
	}
	s.conn = jsonrpc2.NewConn(st)
	s.conn.Go(s.ctx, s.handle)
	select {
	case <-s.conn.Done():
	case <-ctx.Done():
		s.conn.Close()
		<-s.conn.Done()
	}
	s.cancel() // stops in-flight work and the engine load
	if s.clientLog != nil {
		s.clientLog.detach()
	}
	s.closeIndex()
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	switch {
	case state == stateExited && s.exitedAfterShutdown():
		return nil
	case state == stateExited:
		return ErrExitWithoutShutdown
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if err := s.conn.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("lsp: connection failed: %w", err)
	}
	return fmt.Errorf("lsp: client closed the connection without exit")
}

// notify sends a notification, logging a failure.
func (s *Server) notify(method string, params any) {
	if err := s.conn.Notify(s.ctx, method, params); err != nil {
		s.log.Debug("notification not sent", zap.String("method", method), zap.Error(err))
	}
}

// showMessage tells the user something through window/showMessage.
func (s *Server) showMessage(typ protocol.MessageType, msg string) {
	s.notify(protocol.MethodWindowShowMessage, &protocol.ShowMessageParams{Type: typ, Message: msg})
}

// setLogLevel follows the logLevel setting.
func (s *Server) setLogLevel(name string) {
	if s.opts.Level == nil {
		return
	}
	var lvl zapcore.Level
	if lvl.UnmarshalText([]byte(name)) == nil {
		s.opts.Level.SetLevel(lvl)
	}
}

// decode unmarshals params, turning failure into an InvalidParams error.
func decode(params json.RawMessage, v any) error {
	if len(params) == 0 {
		return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "missing params")
	}
	if err := json.Unmarshal(params, v); err != nil {
		return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params: %v", err)
	}
	return nil
}
