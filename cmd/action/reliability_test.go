package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go"
	sdkworkspace "github.com/databricks/databricks-sdk-go/service/workspace"

	"github.com/brickci/brickci/internal/emulator"
)

// TestRunUnderFaults runs the model workflow with 10% of requests failing
// with 429 or 503: the run mode must start exactly one run and report the
// outcome the emulator was told to produce, success or a failed task.
func TestRunUnderFaults(t *testing.T) {
	t.Parallel()
	// Seeds whose fault sequence starts within the first ten requests: a
	// run makes only a few dozen, so every case meets faults.
	seeds := []uint64{7, 9, 10}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		for _, failing := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed=%d/failing=%v", seed, failing), func(t *testing.T) {
				t.Parallel()
				w := newWorkspace(t, emulator.Config{})
				w.deploy(t, "staging")
				// Tasks long enough for a few dozen polls, so that faults land on
				// run-now, runs/get and get-output alike.
				cfg := emulator.Config{TaskDuration: 200 * time.Millisecond, FaultRate: 0.1, Seed: seed}
				if failing {
					cfg.Outcomes = map[string]emulator.Outcome{"chatbot_chain": emulator.OutcomeFailed}
				}
				if err := w.em.Configure(cfg); err != nil {
					t.Fatal(err)
				}
				before := len(w.em.Requests())
				code, out, errOut := w.main("run", "-t", "staging", "--bundle", exampleBundle, "--poll", "10ms", "model_workflow")
				faults := 0
				reqs := w.em.Requests()[before:]
				for _, r := range reqs {
					if r.Status == 429 || r.Status == 503 {
						faults++
					}
				}
				want, summary := 0, "model_workflow: SUCCESS in"
				if failing {
					want, summary = 1, "model_workflow chatbot_chain: FAILED"
				}
				if code != want || !strings.Contains(out, summary) {
					t.Fatalf("exit %d, want %d with %q\n%s\n%s", code, want, summary, out, errOut)
				}
				if failing && !strings.Contains(out, "model_workflow offline_evaluation: UPSTREAM_FAILED") {
					t.Errorf("downstream task not reported as UPSTREAM_FAILED:\n%s", out)
				}
				if n := len(w.em.Runs("tok")); n != 1 {
					t.Errorf("%d runs started, want 1: a retried run-now must not start a second run", n)
				}
				if faults == 0 {
					t.Errorf("no fault was injected in %d requests; the case proves nothing", len(reqs))
				}
				t.Logf("seed %d: %d of %d requests faulted", seed, faults, len(reqs))
			})
		}
	}
}

// buildBrickci builds the binary into a temporary directory.
func buildBrickci(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "brickci")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// largeBundle copies the example bundle and adds extra source files so
// that, with latency, uploading takes long enough to be interrupted.
func largeBundle(t *testing.T, extra int) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(exampleBundle, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(exampleBundle, p)
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	extraDir := filepath.Join(dir, "src", "rag_chatbot", "extra")
	if err := os.MkdirAll(extraDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range extra {
		if err := os.WriteFile(filepath.Join(extraDir, fmt.Sprintf("mod_%03d.py", i)), fmt.Appendf(nil, "VALUE = %d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// bundleFiles counts the files uploaded under the deployment's files/ and
// reports whether a deploy lock exists.
func bundleFiles(em *emulator.Server) (uploaded int, locked bool) {
	for p := range em.Files("tok") {
		switch {
		case strings.HasSuffix(p, "/state/deploy.lock"):
			locked = true
		case strings.Contains(p, "/.bundle/rag_chatbot/staging/files/"):
			uploaded++
		}
	}
	return uploaded, locked
}

// TestSignalStopsDeploy sends SIGINT, and separately SIGTERM, to a child
// brickci deploy in the middle of uploading, and checks that it exits
// non-zero within the 7 seconds the runner allows, releases the deploy lock,
// and that a second deploy then completes.
func TestSignalStopsDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := buildBrickci(t)
	const extra = 60
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := largeBundle(t, extra)
			w := newWorkspace(t, emulator.Config{Latency: 50 * time.Millisecond})
			cmd := exec.Command(bin, "deploy", "-t", "staging", "--bundle", dir, "--host", w.url, "--parallel", "2")
			cmd.Env = append(os.Environ(), "DATABRICKS_TOKEN=tok", "DATABRICKS_RATE_LIMIT=1000")
			var stdout, stderr syncBuf
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Started: stderr names the host, and a few files are up.
			deadline := time.Now().Add(30 * time.Second)
			for {
				n, _ := bundleFiles(w.em)
				if strings.Contains(stderr.String(), "using host "+w.url) && n >= 4 {
					break
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("deploy never started uploading:\n%s\n%s", stdout.String(), stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			atSignal, locked := bundleFiles(w.em)
			if !locked {
				t.Fatalf("no deploy lock while uploading; stderr:\n%s", stderr.String())
			}
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			took := time.Since(sent)
			if err == nil {
				t.Errorf("brickci deploy exited 0 after %s", sig)
			}
			if took > 7*time.Second {
				t.Errorf("took %s to stop after %s; the runner sends SIGTERM at 7.5 s and kills at 10 s", took, sig)
			}
			uploaded, locked := bundleFiles(w.em)
			if locked {
				t.Errorf("deploy lock left behind after %s:\n%s", sig, stderr.String())
			}
			if !strings.Contains(stderr.String(), "signal received") {
				t.Errorf("stderr does not say the deploy was cancelled:\n%s", stderr.String())
			}
			t.Logf("%s with %d files uploaded: exit %v after %s; %d files uploaded in all", sig, atSignal, err, took.Round(time.Millisecond), uploaded)

			// The next deploy resumes: it uploads the rest and creates
			// every resource once.
			if err := w.em.Configure(emulator.Config{}); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := w.main("deploy", "-t", "staging", "--bundle", dir)
			if code != 0 {
				t.Fatalf("deploy after %s: exit %d\n%s\n%s", sig, code, out, errOut)
			}
			for name, list := range w.em.JobsByName("tok") {
				if len(list) != 1 {
					t.Errorf("job %q exists %d times", name, len(list))
				}
			}
			if n := len(w.em.Endpoints("tok")); n != 1 {
				t.Errorf("%d serving endpoints, want 1", n)
			}
			final, locked := bundleFiles(w.em)
			if locked {
				t.Error("lock left behind by the resumed deploy")
			}
			if uploaded >= final {
				t.Errorf("%s stopped nothing: %d of %d files were already up", sig, uploaded, final)
			}
		})
	}
}

// TestStaleLockFromTheCLI leaves deploy.lock as a Databricks CLI deploy
// that was killed would, and checks the deploy mode's answer: fail after
// --lock-timeout naming the holder and the lock's age, then take the lock
// over with --force-lock and release it.
func TestStaleLockFromTheCLI(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{})
	w.deploy(t, "staging")
	var statePath string
	for p := range w.em.Files("tok") {
		if strings.HasSuffix(p, "/state/resources.json") {
			statePath = path.Dir(p)
		}
	}
	if statePath == "" {
		t.Fatal("no state after the first deploy")
	}
	client, err := databricks.NewWorkspaceClient(&databricks.Config{Host: w.url, Token: "tok", AuthType: "pat", RateLimitPerSecond: 10000})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-26 * time.Hour).UTC()
	lock := fmt.Sprintf(`{"ID":"8d1e6c2a-0f4b-4c3e-9a7d-2b5c6e7f8a9b","AcquisitionTime":%q,"IsForced":false,"User":"ci-runner@example.com"}`, since.Format(time.RFC3339Nano))
	err = client.Workspace.Import(context.Background(), sdkworkspace.Import{
		Path: statePath + "/deploy.lock", Content: base64.StdEncoding.EncodeToString([]byte(lock)), Format: sdkworkspace.ImportFormatAuto,
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := w.main("deploy", "-t", "staging", "--bundle", exampleBundle, "--lock-timeout", "50ms")
	if code != 1 {
		t.Fatalf("deploy over a stale lock: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"deploy lock held by ci-runner@example.com since " + since.Format(time.RFC3339), "(26h0m0s ago)", "rerun with --force-lock"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if got := string(w.em.Files("tok")[statePath+"/deploy.lock"]); got != lock {
		t.Errorf("the stale lock was changed without --force-lock: %s", got)
	}
	code, out, errOut = w.main("deploy", "-t", "staging", "--bundle", exampleBundle, "--force-lock")
	if code != 0 {
		t.Fatalf("deploy --force-lock: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, ok := w.em.Files("tok")[statePath+"/deploy.lock"]; ok {
		t.Error("--force-lock deploy left the lock behind")
	}
}
