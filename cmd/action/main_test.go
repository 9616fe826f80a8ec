package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
)

// runMain runs brickci with a map for its environment and returns the exit
// code, stdout and stderr.
func runMain(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// readOutputs parses a GITHUB_OUTPUT file the way the runner does.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no outputs written: %v", err)
	}
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			if lines[i] != "" {
				t.Fatalf("unexpected output line %q", lines[i])
			}
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}

func TestMainDispatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{nil, nil, 2, `brickci: missing mode, valid are`},
		{[]string{"deploi"}, nil, 2, `brickci: unknown mode "deploi", valid are`},
		{[]string{"lint", "--nope"}, nil, 2, "brickci lint: flag provided but not defined: -nope (see 'brickci lint -h')"},
		{nil, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_MODE": "nope"}, 2, `brickci: unknown mode "nope"`},
		{[]string{"lint"}, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_FAIL_LEVEL": "fatal"}, 2, `--fail-level: unknown severity "fatal"`},
		{[]string{"lint"}, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_ALLOW_TAGS": "maybe"}, 2, `input allow_tags: invalid value "maybe"`},
	}
	for _, c := range cases {
		code, stdout, stderr := runMain(c.env, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v %v: exit %d, stderr %q, stdout %q; want %d and one line with %q", c.args, c.env, code, stderr, stdout, c.code, c.want)
		}
	}
	if code, stdout, _ := runMain(nil, "--help"); code != 0 || !strings.Contains(stdout, "validate") {
		t.Errorf("--help: %d %q", code, stdout)
	}
}

// syncBuf is a bytes.Buffer safe for a child process's output and a
// polling reader.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
