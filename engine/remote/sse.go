package remote

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// errStreamDone is returned by readEvents' callback to stop reading early.
var errStreamDone = errors.New("stream done")

// maxEventBytes bounds one server-sent event, so a server that never ends a
// line cannot make dfim buffer without limit.
const maxEventBytes = 4 << 20

// readEvents reads server-sent events from r and calls event with the data
// of each one (its "data:" lines joined by newlines). It returns nil at
// "data: [DONE]", at end of input, or when event returns errStreamDone;
// otherwise the first error from r or from event. Comments, "event:", "id:"
// and "retry:" fields are ignored: the completion APIs carry all in data.
func readEvents(r io.Reader, event func(data []byte) error) (sawDone bool, err error) {
	br := bufio.NewReader(r) // lines longer than its buffer arrive in pieces (readLine)
	var data []byte
	dispatch := func() (bool, error) {
		if data == nil {
			return false, nil
		}
		d := data
		data = nil
		if string(bytes.TrimSpace(d)) == "[DONE]" {
			return true, nil
		}
		if err := event(d); err != nil {
			if err == errStreamDone {
				return true, nil
			}
			return false, err
		}
		return false, nil
	}
	for {
		line, rerr := readLine(br)
		if rerr != nil && rerr != io.EOF {
			return false, rerr
		}
		if rerr == io.EOF && len(line) == 0 {
			// End of input dispatches a pending event: some servers close
			// the stream without a trailing blank line.
			done, err := dispatch()
			return done, err
		}
		switch {
		case len(line) == 0:
			if done, err := dispatch(); done || err != nil {
				return done, err
			}
		case line[0] == ':':
			// comment (keep-alive)
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			if string(field) == "data" {
				if data != nil {
					data = append(data, '\n')
				} else {
					data = []byte{}
				}
				data = append(data, value...)
				if len(data) > maxEventBytes {
					return false, errors.New("server-sent event larger than 4 MiB")
				}
			}
		}
		if rerr == io.EOF {
			done, err := dispatch()
			return done, err
		}
	}
}

// readLine reads one line without its ending (\n or \r\n), bounded
// by maxEventBytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		line = append(line, chunk...)
		if err != nil {
			return line, err
		}
		if len(line) > maxEventBytes {
			return nil, errors.New("server-sent event line longer than 4 MiB")
		}
		if !isPrefix {
			return line, nil
		}
	}
}
