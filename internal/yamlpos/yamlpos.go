package yamlpos

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

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
