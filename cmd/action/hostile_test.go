package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/brickci/brickci/internal/emulator"
)

// The regression tests in this file run the built binary, because that is
// where a hostile review saw each defect.

var (
	hostileBinOnce sync.Once
	hostileBin     string
	hostileBinErr  string
)

// brickciBinary builds the binary once for every test of this file.
func brickciBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	hostileBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "brickci-bin-")
		if err != nil {
			hostileBinErr = err.Error()
			return
		}
		hostileBin = filepath.Join(dir, "brickci")
		if out, err := exec.Command("go", "build", "-o", hostileBin, ".").CombinedOutput(); err != nil {
			hostileBinErr = err.Error() + "\n" + string(out)
		}
	})
	if hostileBinErr != "" {
		t.Fatalf("build: %s", hostileBinErr)
	}
	return hostileBin
}

// execBrickci runs the binary with exactly env (plus PATH and HOME) and
// returns its exit code and streams.
func execBrickci(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(brickciBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// TestLongFirstLineIsNotANotebook deploys a bundle holding a valid Python
// file whose first line is 2 MiB long: the notebook header check must read
// only what it needs, not fail the deploy with a scanner's token limit.
func TestLongFirstLineIsNotANotebook(t *testing.T) {
	t.Parallel()
	dir := largeBundle(t, 0)
	long := "X = '" + strings.Repeat("a", 2<<20) + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "src", "rag_chatbot", "long_line.py"), []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(t, emulator.Config{})
	code, out, errOut := execBrickci(t, w.env, "deploy", "-t", "staging", "--bundle", dir, "--host", w.url)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
	}
	found := false
	for p, content := range w.em.Files("tok") {
		if strings.HasSuffix(p, "/files/src/rag_chatbot/long_line.py") {
			found = len(content) == len(long)
		}
	}
	if !found {
		t.Errorf("long_line.py was not uploaded whole as a file")
	}
}
