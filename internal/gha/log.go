package gha

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Log is the one output layer between brickci and the job log. Everything a
// mode prints goes through Write, which treats the text as untrusted: a
// line that would be read by the runner as a workflow command (`::name::`
// or `##[name]` after leading blanks, where CR ends a line as LF does) is
// neutralised, a lone CR is shown as `\r`, and registered credentials are
// removed. Only Command writes
// a workflow command, so a bundle name, a job key, a workspace answer or a
// test name holding "\n::error::x" cannot issue one.
//
// Write buffers a partial line until its end (or Flush), so a credential or
// a command prefix split over two writes is still found.
type Log struct {
	mu      sync.Mutex
	w       io.Writer
	redact  func(string) string
	partial []byte
}

// maxPartial is how long a line without an end may grow before it is
// written anyway, so a program printing no newline is not held forever.
const maxPartial = 64 << 10

// NewLog returns a Log writing to w; redact removes credentials (nil keeps
// text as is).
func NewLog(w io.Writer, redact func(string) string) *Log {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &Log{w: w, redact: redact}
}

// Write writes untrusted text; see Log. It reports len(p) written unless
// the underlying writer fails.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	end := bytes.LastIndexByte(l.partial, '\n')
	if end < 0 && len(l.partial) < maxPartial {
		return len(p), nil
	}
	var out []byte
	if end < 0 {
		out, l.partial = l.partial, nil
	} else {
		out = l.partial[:end+1]
		l.partial = append([]byte(nil), l.partial[end+1:]...)
	}
	if _, err := io.WriteString(l.w, Neutralise(l.redact(string(out)))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a pending partial line.
func (l *Log) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		_, _ = io.WriteString(l.w, Neutralise(l.redact(string(l.partial))))
		l.partial = nil
	}
}

// Command writes one workflow command line, which must start a line: a
// pending partial line is ended first. Its text is redacted, except that of
// ::add-mask::, whose value is the credential the runner must learn.
func (l *Log) Command(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		_, _ = io.WriteString(l.w, Neutralise(l.redact(string(l.partial)))+"\n")
		l.partial = nil
	}
	if !strings.HasPrefix(line, "::add-mask::") {
		line = l.redact(line)
	}
	_, _ = io.WriteString(l.w, strings.TrimRight(line, "\n")+"\n")
}

// Neutralise makes text safe to print on the job log: a lone CR (which the
// runner reads as a line end) is shown as `\r`, and every line that would
// start with a workflow command prefix after blanks (Unicode ones too, as
// the runner trims them) has the prefix escaped the way the runner escapes
// `:` (%3A) and `#` (%23), so it is shown and not run.
func Neutralise(text string) string {
	if !strings.Contains(text, "::") && !strings.Contains(text, "##[") && !strings.Contains(text, "\r") {
		return text
	}
	var b strings.Builder
	start := true
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if start && !unicode.IsSpace(r) {
			start = false
			switch {
			case strings.HasPrefix(text[i:], "::"):
				b.WriteString("%3A%3A")
				i += 2
				continue
			case strings.HasPrefix(text[i:], "##["):
				b.WriteString("%23%23[")
				i += 3
				continue
			}
		}
		if r == '\r' && !strings.HasPrefix(text[i+1:], "\n") {
			// brickci never ends a line with a lone CR; one in untrusted
			// text would start a new line for the runner (and overwrite
			// the line on a terminal), so it is shown instead.
			b.WriteString(`\r`)
			i += size
			continue
		}
		if r == '\n' {
			start = true
		}
		b.WriteString(text[i : i+size])
		i += size
	}
	return b.String()
}
