package yamlpos

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"

	yamlv4 "go.yaml.in/yaml/v4"
	"gopkg.in/yaml.v3"
)

// parserProblems are the problems yaml.v3 reports from its parser rather
// than its scanner. For those it prints the 0-based line of the collection
// being parsed (parser.fail in yaml.v3's decode.go adds one only for
// scanner errors), so the 1-based line is one more.
var parserProblems = map[string]bool{
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
}

var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// Error returns the 1-based line a yaml.v3 error points at (0 when it
// names none) and its message without the "yaml: line N:" prefix.
func Error(err error) (line int, msg string) {
	msg = err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	for _, part := range strings.Split(msg, "\n") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "yaml: ")
		if m := lineRe.FindStringSubmatch(part); m != nil {
			line, _ = strconv.Atoi(m[1])
			if parserProblems[m[2]] {
				line++
			}
			return line, m[2]
		}
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// Position returns the 1-based line and column of a yaml.v3 syntax error
// in data (0 for what it cannot tell) and the message without the
// "yaml: line N:" prefix.
//
// yaml.v3 prints no column and no line for a problem on the first line.
// go.yaml.in/yaml/v4, the same libyaml port, returns both in a
// ParserError, so the document is parsed again with it to find them: the
// column of the construct being read (an unclosed quote or bracket) or,
// failing that, of the problem. When the two libraries disagree about the
// problem, only the line is returned.
func Position(data []byte, err error) (line, column int, msg string) {
	line, msg = Error(err)
	var n yamlv4.Node
	var pe *yamlv4.ParserError
	if !errors.As(yamlv4.Unmarshal(data, &n), &pe) || pe.Message != msg {
		return line, 0, msg
	}
	if line == 0 && pe.Line == 0 && pe.Column > 0 {
		// Both marks are on the first (0-based 0) line, which yaml.v3
		// takes for "no line".
		line = 1
	}
	if line == 0 {
		return 0, 0, msg
	}
	column = pe.Column + 1
	if text := lineText(data, line); column > len(text)+1 {
		// The column belongs to a mark on another line (libyaml takes the
		// problem's column when the context starts at column 0).
		column = 1
	}
	return line, column, msg
}

// lineText returns the 1-based line of data, without its newline.
func lineText(data []byte, line int) []byte {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return nil
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return data
}
