package lsp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.uber.org/zap"
)

// maxFrame is the largest message read into memory; a larger one is skipped.
// It is well above the document size limit so that an oversized didOpen is
// still read, recorded as too large, and answered with empty results.
const maxFrame = 256 << 20

// maxFrameBeforeInit is the largest message read before initialize has
// succeeded (with the shared token, when one is needed). An initialize
// takes a few kilobytes; a client that has not shown the token must not
// make the session read and hold maxFrame bytes. A larger frame is
// refused unread and the connection closed.
const maxFrameBeforeInit = 1 << 20

// stream frames LSP messages (Content-Length headers) like jsonrpc2.NewStream,
// but a frame that is not a valid JSON-RPC message is answered with a
// ParseError and skipped instead of ending the connection: jsonrpc2.Conn
// closes the connection on any read error.
//
// A framing error (no Content-Length, or a length that is wrong) would
// otherwise desynchronise the reader for good: the next header is read as
// body, or the next body as header, and the server answers nothing again.
// So the reader resynchronises on the next "Content-Length:" header, found
// in the middle of a garbage line or inside a body that overran its frame.
// That cannot misfire on a valid message: a header needs a raw CR LF after
// its digits, which JSON allows only outside strings, where the text
// "Content-Length:" is not valid JSON.
type stream struct {
	rwc io.ReadWriteCloser
	in  *bufio.Reader
	src *pushback // what in reads from: rwc, after any bytes pushed back
	log *zap.Logger

	// writeMu guards writes to rwc: both Conn and Read (for parse errors) write.
	writeMu sync.Mutex

	// initialized is set once initialize has succeeded: frames up to
	// maxFrame are read from then on, maxFrameBeforeInit before.
	initialized atomic.Bool
}

func newStream(rwc io.ReadWriteCloser, log *zap.Logger) *stream {
	src := &pushback{r: rwc}
	return &stream{rwc: rwc, in: bufio.NewReaderSize(src, 64<<10), src: src, log: log}
}

// frameLimit returns the largest frame the stream reads now.
func (s *stream) frameLimit() int64 {
	if s.initialized.Load() {
		return maxFrame
	}
	return maxFrameBeforeInit
}

// pushback is a reader that first returns buf, then reads r.
type pushback struct {
	buf []byte
	r   io.Reader
}

func (p *pushback) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// unread puts data back in front of what the stream has not read yet.
func (s *stream) unread(data []byte) {
	rest, _ := s.in.Peek(s.in.Buffered())
	s.src.buf = append(append(append([]byte(nil), data...), rest...), s.src.buf...)
	s.in.Reset(s.src)
}

// Read returns the next valid message. Its error ends the connection, so it
// returns one only when the transport fails.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		data, n, err := s.readFrame()
		if err != nil {
			return nil, n, err
		}
		if data == nil {
			continue // bad header or oversized frame, already logged
		}
		msg, err := jsonrpc2.DecodeMessage(data)
		fixed, reply := screen(data, msg, err)
		if reply != nil {
			s.log.Warn("invalid request answered", zap.ByteString("reply", reply))
			s.writeRaw(reply)
			continue
		}
		if fixed != nil {
			msg, err = jsonrpc2.DecodeMessage(fixed)
		}
		if err == nil {
			return msg, n, nil
		}
		s.log.Warn("malformed JSON-RPC message skipped", zap.Error(err), zap.Int("bytes", len(data)))
		s.writeRaw(parseErrorReply(err))
	}
}

const contentLength = "content-length:"

// readFrame reads one frame. It returns nil data (and no error) for a frame
// it skipped.
func (s *stream) readFrame() ([]byte, int64, error) {
	var total int64
	length := int64(-1)
	for {
		line, n, err := s.readLine()
		total += n
		if err != nil {
			return nil, total, fmt.Errorf("reading message header: %w", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			if length >= 0 || total > 2 {
				break
			}
			continue // stray blank line between frames
		}
		name, value, ok := strings.Cut(line, ":")
		isLength := ok && strings.EqualFold(strings.TrimSpace(name), "Content-Length")
		if !isLength {
			// The rest of a broken frame, with the next header after it on
			// the same line (a body ends without a line break).
			if i := strings.LastIndex(lowerASCII(line), contentLength); i > 0 {
				s.log.Warn("garbage before a header skipped", zap.Int("bytes", i))
				isLength, value = true, line[i+len(contentLength):]
				length = -1 // any header before the garbage belonged to another frame
			}
		}
		if !isLength {
			if !ok {
				s.log.Warn("malformed header line skipped", zap.Int("bytes", len(line)))
			}
			continue
		}
		v, perr := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if perr != nil || v < 0 {
			s.log.Warn("bad Content-Length header", zap.String("value", value))
			continue
		}
		length = v
	}
	if length < 0 {
		s.log.Warn("message without Content-Length skipped")
		return nil, total, nil
	}
	if limit := s.frameLimit(); length > limit && limit < maxFrame {
		// Refused before a byte of it is read: the body could be a
		// quarter of a gigabyte from a client that has shown no token.
		s.log.Warn("oversized message before initialize refused; closing the connection",
			zap.Int64("bytes", length), zap.Int64("limit", limit))
		s.writeRaw(errorReply(nil, jsonrpc2.InvalidRequest, fmt.Sprintf(
			"dfim: a message of %d bytes before initialize is over the %d-byte limit that holds until initialize succeeds; closing the connection", length, limit)))
		return nil, total, fmt.Errorf("message of %d bytes before initialize refused (limit %d until initialize succeeds)", length, limit)
	}
	if length > maxFrame {
		// Skipped up to the next header rather than by its length: a
		// wrong length this large would otherwise swallow everything the
		// client sends for minutes.
		s.log.Warn("oversized message skipped", zap.Int64("bytes", length), zap.Int("limit", maxFrame))
		n, err := s.skipToHeader()
		total += n
		if err != nil {
			return nil, total, fmt.Errorf("skipping oversized message: %w", err)
		}
		return nil, total, nil
	}
	data, err := s.readBody(int(length))
	if err != nil {
		return nil, total, err
	}
	return data, total + int64(len(data)), nil
}

// lowerASCII lowercases ASCII letters only, keeping every byte offset
// (strings.ToLower turns invalid UTF-8 into longer replacement runes).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// maxHeaderLine bounds the memory a header line takes: of a longer line
// (garbage: a body that lost its frame) only the end is kept, where the
// next frame's header would be.
const maxHeaderLine = 4 << 10

// readLine reads a line through its '\n', returning at most its last
// maxHeaderLine bytes and how many it read.
func (s *stream) readLine() (string, int64, error) {
	var line []byte
	var total int64
	for {
		chunk, err := s.in.ReadSlice('\n')
		total += int64(len(chunk))
		line = append(line, chunk...)
		if len(line) > maxHeaderLine {
			line = append(line[:0], line[len(line)-maxHeaderLine:]...)
		}
		if err != bufio.ErrBufferFull {
			return string(line), total, err
		}
	}
}

// readBody reads a body of length bytes, unless the next frame's header
// shows up inside it first: then the length was too long, and the body is
// cut there (and fails to decode) so that the next frame is read whole,
// without waiting for bytes the client will never send.
func (s *stream) readBody(length int) ([]byte, error) {
	data := make([]byte, 0, min(length, 64<<10))
	for len(data) < length {
		if len(data) == cap(data) {
			data = slices.Grow(data, min(length-len(data), len(data)))
		}
		n, err := s.in.Read(data[len(data):min(cap(data), length)])
		from := max(0, len(data)-64) // a header split between reads
		data = data[:len(data)+n]
		if i := nextHeader(data, from); i >= 0 {
			s.log.Warn("message shorter than its Content-Length; resynchronised on the next header",
				zap.Int("length", length), zap.Int("bytes", i))
			s.unread(data[i:])
			return data[:i], nil
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading message body: %w", err)
		}
	}
	// A length a few bytes too long ends the body inside the next header.
	if i := headerAtEnd(data); i >= 0 {
		s.log.Warn("message shorter than its Content-Length; resynchronised on the next header",
			zap.Int("length", length), zap.Int("bytes", i))
		s.unread(data[i:])
		return data[:i], nil
	}
	return data, nil
}

// headerAtEnd returns where the start of a header ends data ("Content-Le",
// or "Content-Length: 6"), or -1. A JSON object or array ends in '}' or
// ']' and blanks, so a valid message never matches.
func headerAtEnd(data []byte) int {
	const h = "Content-Length:"
	if i := bytes.LastIndex(data, []byte(h)); i >= 0 {
		rest := bytes.TrimSuffix(bytes.TrimLeft(data[i+len(h):], " \t"), []byte("\r"))
		if len(bytes.TrimLeft(rest, "0123456789")) == 0 {
			return i
		}
	}
	for k := min(len(h)-1, len(data)); k > 0; k-- {
		if bytes.HasSuffix(data, []byte(h[:k])) {
			return len(data) - k
		}
	}
	return -1
}

// skipToHeader discards input up to the next complete header, keeping
// only a few bytes in memory, and returns how many bytes it discarded.
func (s *stream) skipToHeader() (int64, error) {
	buf := make([]byte, 32<<10)
	var window []byte
	var total int64
	for {
		n, err := s.in.Read(buf)
		window = append(window, buf[:n]...)
		if i := nextHeader(window, 0); i >= 0 {
			s.unread(window[i:])
			return total + int64(i), nil
		}
		if keep := 64; len(window) > keep {
			total += int64(len(window) - keep)
			window = append(window[:0], window[len(window)-keep:]...)
		}
		if err != nil {
			return total + int64(len(window)), err
		}
	}
}

// nextHeader returns where a complete "Content-Length: N\r\n" header starts
// in data at or after from, or -1.
func nextHeader(data []byte, from int) int {
	for {
		i := bytes.Index(data[from:], []byte("Content-Length:"))
		if i < 0 {
			return -1
		}
		at := from + i
		rest := data[at+len("Content-Length:"):]
		rest = bytes.TrimLeft(rest, " \t")
		digits := 0
		for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
			digits++
		}
		if digits > 0 && len(rest) > digits+1 && rest[digits] == '\r' && rest[digits+1] == '\n' {
			return at
		}
		from = at + 1
	}
}

func parseErrorReply(err error) []byte {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      nil,
		"error":   map[string]any{"code": jsonrpc2.ParseError, "message": "dfim: cannot parse message: " + err.Error()},
	})
	return b
}

// Write sends msg. It ignores ctx being done: a reply must still go out
// after the request it answers was cancelled.
func (s *stream) Write(_ context.Context, msg jsonrpc2.Message) (int64, error) {
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("marshaling message: %w", err)
	}
	return s.writeRaw(replyID(msg, data))
}

func (s *stream) writeRaw(data []byte) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n, err := fmt.Fprintf(s.rwc, "Content-Length: %d\r\n\r\n%s", len(data), data)
	if err != nil {
		return int64(n), fmt.Errorf("writing message: %w", err)
	}
	return int64(n), nil
}

func (s *stream) Close() error { return s.rwc.Close() }
