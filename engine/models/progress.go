package models

import (
	"fmt"
	"io"
	"time"
)

// Progress hears how each file's download goes.
type Progress interface {
	Start(file string, size, have int64) // have: bytes already there (a resumed partial)
	Advance(n int64)
	Finish(err error)
}

// NewProgress reports downloads on w: a bar redrawn in place with bytes,
// rate and time left when w is a terminal, else one line per file.
func NewProgress(w io.Writer, terminal bool) Progress {
	return &progress{w: w, tty: terminal, now: time.Now}
}

type progress struct {
	w   io.Writer
	tty bool
	now func() time.Time

	file             string
	size, have, done int64 // done: bytes this run
	start, drawn     time.Time
}

func (p *progress) Start(file string, size, have int64) {
	p.file, p.size, p.have, p.done = file, size, have, 0
	p.start = p.now()
	p.drawn = time.Time{}
	if p.tty {
		p.draw()
	}
}

func (p *progress) Advance(n int64) {
	p.done += n
	if p.tty && p.now().Sub(p.drawn) >= 200*time.Millisecond {
		p.draw()
	}
}

func (p *progress) Finish(err error) {
	el := p.now().Sub(p.start)
	if p.tty {
		p.draw()
		fmt.Fprint(p.w, "\n")
		return
	}
	status := "ok"
	if err != nil {
		status = "failed"
	}
	resumed := ""
	if p.have > 0 {
		resumed = fmt.Sprintf(", resumed at %s", HumanBytes(p.have))
	}
	fmt.Fprintf(p.w, "%s %s (%s%s) in %s, %s\n", p.file, status, HumanBytes(p.have+p.done), resumed, el.Round(time.Millisecond), rate(p.done, el))
}

// draw writes the bar line: file, percentage, bytes, rate, time left.
func (p *progress) draw() {
	p.drawn = p.now()
	el := p.drawn.Sub(p.start)
	cur := p.have + p.done
	frac := 1.0
	if p.size > 0 {
		frac = float64(cur) / float64(p.size)
	}
	const width = 24
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if float64(i) < frac*width {
			bar[i] = '='
		}
	}
	left := "--"
	if p.done > 0 && el > 0 && cur < p.size {
		secs := float64(p.size-cur) / (float64(p.done) / el.Seconds())
		left = (time.Duration(secs) * time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%-32.32s [%s] %3.0f%% %s/%s %s, %s left\x1b[K", p.file, bar, frac*100,
		HumanBytes(cur), HumanBytes(p.size), rate(p.done, el), left)
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-- /s"
	}
	return HumanBytes(int64(float64(n)/d.Seconds())) + "/s"
}
