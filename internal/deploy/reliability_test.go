package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/google/go-cmp/cmp"
)

// The tests in this file prove that the deploy engine converges: under
// injected 429/503 faults, after its context is cancelled at a random
// request, and when two deployers race for one target. "Converges" means
// that the workspace ends in exactly the state one clean deploy of the same
// bundle leaves, as convergedState renders it.

// faultSeeds are the fault generator seeds every fault case runs with.
var faultSeeds = []uint64{1, 2, 3, 4, 5}

// reliabilityBundle is the demo bundle (two jobs, one depending on the
// other's id, job permissions) plus a serving endpoint with grants, so that
// every kind of resource and every create/reset/ACL path is exercised.
func reliabilityBundle(dir string) *bundle.Bundle {
	b := demoBundle(dir)
	b.ServingEndpoints = endpointBundle(dir, "1").ServingEndpoints
	return b
}

// changeBundle edits the bundle the way a typical second commit does: one
// notebook changed, one file removed, one added, one job setting and the
// endpoint's served version changed.
func changeBundle(t testing.TB, dir string, b *bundle.Bundle) {
	t.Helper()
	writeTree(t, dir, map[string]string{
		"notebooks/train.py": "# Databricks notebook source\nprint('train v2')\n",
		"src/rag/new.py":     "def g():\n    return 2\n",
	})
	if err := os.Remove(filepath.Join(dir, "src", "rag", "data", "chunks.txt")); err != nil {
		t.Fatal(err)
	}
	b.Jobs["train"].Config["max_concurrent_runs"] = 3
	b.ServingEndpoints = endpointBundle(dir, "2").ServingEndpoints
}

// faultyServer is newServer with faults and latency injected.
func faultyServer(t testing.TB, cfg emulator.Config, wrap func(http.RoundTripper) http.RoundTripper) (*emulator.Server, *databricks.WorkspaceClient) {
	t.Helper()
	srv, w := newServer(t, wrap)
	if err := srv.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	return srv, w
}

var (
	timestampField = regexp.MustCompile(`"([a-z_]*timestamp)":\s*[0-9]+`)
	loopbackURL    = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
	movedAside     = regexp.MustCompile(`-deleted-[0-9]+$`)
)

// convergedState renders what a deploy leaves in the workspace as
// name → JSON, normalised so that two deploys that did the same work
// compare equal. What is normalised, and why:
//   - deploy.lock is not part of it: lockHeld reports it, and every case
//     requires it gone;
//   - job and serving endpoint ids become <job:NAME> and <endpoint:NAME>
//     everywhere (settings, state files, permission keys): ids are the
//     workspace's to assign;
//   - serving endpoint timestamps become 0 and the emulator's address in
//     endpoint URLs becomes <host>;
//   - in resources.json the lineage and serial, and in deployment.json the
//     id and timestamp, become placeholders: an interrupted deploy followed
//     by a rerun legitimately writes state more often and may have started
//     the lineage. The fault cases compare serial exactly on their own.
//     deployment.json's record of resources.json becomes a placeholder
//     saying whether it names the resources.json beside it.
//
// Every job name must map to exactly one job; a duplicate is rendered as
// such and so never compares equal to a clean deploy.
func convergedState(t testing.TB, srv *emulator.Server) map[string]string {
	t.Helper()
	type idLabel struct{ id, label string }
	var labels []idLabel
	for id, s := range srv.Jobs(testToken) {
		labels = append(labels, idLabel{strconv.FormatInt(id, 10), "<job:" + s.Name + ">"})
	}
	for name, e := range srv.Endpoints(testToken) {
		labels = append(labels, idLabel{e.Id, "<endpoint:" + name + ">"})
	}
	for id, spec := range srv.Pipelines(testToken) {
		labels = append(labels, idLabel{id, "<pipeline:" + spec.Name + ">"})
	}
	for name, e := range srv.Experiments(testToken) {
		labels = append(labels, idLabel{e.ExperimentId, "<experiment:" + movedAside.ReplaceAllString(name, "-deleted") + ">"})
	}
	for name, m := range srv.Models(testToken) {
		labels = append(labels, idLabel{m.Id, "<model:" + name + ">"})
	}
	// Longer ids first so that no id is replaced inside another.
	sort.Slice(labels, func(i, k int) bool { return len(labels[i].id) > len(labels[k].id) })
	norm := func(s string) string {
		for _, l := range labels {
			s = regexp.MustCompile(`\b`+regexp.QuoteMeta(l.id)+`\b`).ReplaceAllString(s, l.label)
		}
		s = loopbackURL.ReplaceAllString(s, "<host>")
		return timestampField.ReplaceAllString(s, `"$1":0`)
	}
	asJSON := func(v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return norm(string(data))
	}
	// deployment.json must record the resources.json beside it; the
	// record itself is as arbitrary as the serial.
	var written ResourcesRecord
	for p, o := range srv.Objects(testToken) {
		if strings.HasSuffix(p, "/state/"+resourcesFile) {
			var rs ResourcesState
			if err := json.Unmarshal(o.Content, &rs); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			written = ResourcesRecord{Lineage: rs.Lineage, Serial: rs.Serial}
		}
	}
	out := map[string]string{}
	for p, o := range srv.Objects(testToken) {
		switch path := p; {
		case strings.HasSuffix(path, "/"+lockFile):
			continue
		case strings.HasSuffix(path, "/state/"+resourcesFile):
			var rs ResourcesState
			if err := json.Unmarshal(o.Content, &rs); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			rs.Lineage, rs.Serial = "<lineage>", 0
			o.Content = []byte(asJSON(rs))
		case strings.HasSuffix(path, "/state/"+deploymentFile):
			var ds DeploymentState
			if err := json.Unmarshal(o.Content, &ds); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			ds.ID, ds.Timestamp = "<id>", time.Time{}
			switch {
			case ds.Resources == nil:
			case *ds.Resources == written:
				ds.Resources = &ResourcesRecord{Lineage: "<resources.json beside it>"}
			default:
				ds.Resources = &ResourcesRecord{Lineage: fmt.Sprintf("<not the resources.json beside it, %v>", written)}
			}
			o.Content = []byte(asJSON(ds))
		}
		out["object "+p] = fmt.Sprintf("%s %s %s", o.Type, o.Language, norm(string(o.Content)))
	}
	for name, list := range srv.JobsByName(testToken) {
		if len(list) != 1 {
			out["job "+name] = fmt.Sprintf("%d jobs share this name", len(list))
			continue
		}
		out["job "+name] = asJSON(list[0])
	}
	for name, e := range srv.Endpoints(testToken) {
		out["endpoint "+name] = asJSON(e)
	}
	for key, acl := range srv.Permissions(testToken) {
		out["permissions "+norm(key)] = asJSON(acl)
	}
	for name, v := range srv.Schemas(testToken) {
		out["schema "+name] = asJSON(v)
	}
	for name, v := range srv.Volumes(testToken) {
		out["volume "+name] = asJSON(v)
	}
	for name, v := range srv.RegisteredModels(testToken) {
		out["registered model "+name] = asJSON(v)
	}
	for key, v := range srv.Grants(testToken) {
		out["grants "+key] = asJSON(v)
	}
	byName := map[string][]string{}
	for _, spec := range srv.Pipelines(testToken) {
		byName[spec.Name] = append(byName[spec.Name], asJSON(spec))
	}
	for name, list := range byName {
		if len(list) != 1 {
			out["pipeline "+name] = fmt.Sprintf("%d pipelines share this name", len(list))
			continue
		}
		out["pipeline "+name] = list[0]
	}
	for name, e := range srv.Experiments(testToken) {
		// The name a replace moves a deleted experiment aside to holds
		// its id.
		out["experiment "+movedAside.ReplaceAllString(name, "-deleted")] = asJSON(e)
	}
	for name, m := range srv.Models(testToken) {
		out["model "+name] = asJSON(m)
	}
	for table, m := range srv.Monitors(testToken) {
		// A monitor adopted after an interruption is updated once more
		// than a clean deploy updates it; its dashboard id is the
		// workspace's to assign and its status follows the clock.
		m.MonitorVersion, m.DashboardId, m.Status = 0, "", ""
		out["monitor "+table] = asJSON(m)
	}
	return out
}

// lockHeld reports whether deploy.lock exists in the workspace.
func lockHeld(srv *emulator.Server) bool {
	for p := range srv.Files(testToken) {
		if strings.HasSuffix(p, "/"+lockFile) {
			return true
		}
	}
	return false
}

// stateSerial is the serial of resources.json, or -1 when there is none.
func stateSerial(t testing.TB, srv *emulator.Server) int {
	t.Helper()
	for p, c := range srv.Files(testToken) {
		if strings.HasSuffix(p, "/state/"+resourcesFile) {
			var rs ResourcesState
			if err := json.Unmarshal(c, &rs); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			return rs.Serial
		}
	}
	return -1
}

// step is one operation of the deploy → change → redeploy → destroy
// sequence the fault cases replay.
type step struct {
	name string
	run  func(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, dir string) error
}

func reliabilitySteps(t testing.TB) []step {
	apply := func(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, dir string) error {
		_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), fastOptions())
		return err
	}
	return []step{
		{"deploy", apply},
		{"redeploy unchanged", apply},
		{"redeploy after a change", func(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, dir string) error {
			changeBundle(t, dir, b)
			return apply(ctx, w, b, dir)
		}},
		{"destroy", func(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, dir string) error {
			return Destroy(ctx, w, b, fastOptions())
		}},
	}
}

// fastOptions are testOptions with serving endpoint waits bounded.
func fastOptions() Options {
	o := testOptions()
	o.EndpointTimeout = time.Minute
	return o
}

// stepResult is what one step left behind.
type stepResult struct {
	state    map[string]string
	serial   int
	requests int
	took     time.Duration
}

// replay runs every step against srv and records the state after each. It
// returns the steps done so far and the first step's error; it may run on a
// goroutine of its own (the test helpers it calls fail the test only when
// the local file system does).
func replay(t *testing.T, srv *emulator.Server, w *databricks.WorkspaceClient) ([]stepResult, error) {
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := reliabilityBundle(dir)
	var out []stepResult
	for _, s := range reliabilitySteps(t) {
		before, start := len(srv.Requests()), time.Now()
		if err := s.run(context.Background(), w, b, dir); err != nil {
			return out, fmt.Errorf("%s: %w", s.name, err)
		}
		if lockHeld(srv) {
			return out, fmt.Errorf("%s: lock left behind", s.name)
		}
		out = append(out, stepResult{state: convergedState(t, srv), serial: stateSerial(t, srv), requests: len(srv.Requests()) - before, took: time.Since(start)})
	}
	return out, nil
}

// seedRun is one replay under faults.
type seedRun struct {
	steps         []stepResult
	err           error
	faults, total int
	took          time.Duration
}

// TestDeployConvergesUnderFaults replays deploy, an unchanged redeploy, a
// redeploy after a change and destroy with 10% of requests failing with
// 429 or 503, once per seed, and requires every step to leave exactly the
// state the same step leaves without faults. The SDK backs off at least a
// second per retry, so the seeds run concurrently on goroutines of their
// own rather than as parallel subtests, which -parallel would serialise.
func TestDeployConvergesUnderFaults(t *testing.T) {
	t.Parallel()
	seeds := faultSeeds
	if testing.Short() {
		seeds = seeds[:2]
	}
	cleanSrv, cleanW := faultyServer(t, emulator.Config{Latency: time.Millisecond, TaskDuration: time.Millisecond}, nil)
	clean, err := replay(t, cleanSrv, cleanW)
	if err != nil {
		t.Fatal(err)
	}
	if len(clean[0].state) == 0 || len(clean[3].state) >= len(clean[0].state) {
		t.Fatalf("the clean replay did not deploy and destroy: %d then %d entries", len(clean[0].state), len(clean[3].state))
	}
	runs := make([]seedRun, len(seeds))
	var wg sync.WaitGroup
	for i, seed := range seeds {
		srv, w := faultyServer(t, emulator.Config{Latency: time.Millisecond, TaskDuration: time.Millisecond, FaultRate: 0.1, Seed: seed}, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			runs[i].steps, runs[i].err = replay(t, srv, w)
			runs[i].took = time.Since(start)
			for _, r := range srv.Requests() {
				runs[i].total++
				if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
					runs[i].faults++
				}
			}
		}()
	}
	wg.Wait()
	steps := reliabilitySteps(t)
	for i, seed := range seeds {
		run := runs[i]
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			if run.err != nil {
				t.Fatalf("replay under faults failed: %v", run.err)
			}
			if run.faults == 0 {
				t.Fatal("no fault was injected; the case proves nothing")
			}
			for k, s := range steps {
				got := run.steps[k]
				if diff := cmp.Diff(clean[k].state, got.state); diff != "" {
					t.Errorf("%s: state differs from a clean run (-clean +faulty):\n%s", s.name, diff)
				}
				if got.serial != clean[k].serial {
					t.Errorf("%s: resources.json serial %d, clean %d: state was written a different number of times", s.name, got.serial, clean[k].serial)
				}
				t.Logf("%s: %d requests in %s (clean %d in %s)", s.name, got.requests, got.took.Round(time.Millisecond), clean[k].requests, clean[k].took.Round(time.Millisecond))
			}
			t.Logf("seed %d: %d faults injected in %d requests; replay took %s", seed, run.faults, run.total, run.took.Round(time.Millisecond))
		})
	}
}

// cancelAfter counts requests and cancels the deploy's context once the
// server has answered request n, as a SIGINT arriving then does. Unlike
// interruptAt it hands the answer back: what the engine sees next is its
// own context ending, mid-step. Requests keep flowing after that, so the
// lock release (which runs on a context of its own) is not cut off.
type cancelAfter struct {
	next   http.RoundTripper
	n      int64
	seen   atomic.Int64
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (c *cancelAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	hit := c.seen.Add(1) == c.n
	resp, err := c.next.RoundTrip(req)
	if hit {
		c.mu.Lock()
		if c.cancel != nil {
			c.cancel()
		}
		c.mu.Unlock()
	}
	return resp, err
}

func (c *cancelAfter) arm(n int64, cancel context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.cancel = n, cancel
	c.seen.Store(0)
}

// TestCancelledDeployResumes cancels a first deploy, and separately a
// redeploy after a change, after a pseudo-random number of requests (a
// few per seed), then deploys again and requires the clean-deploy state
// with the lock released and no duplicate job or endpoint.
func TestCancelledDeployResumes(t *testing.T) {
	t.Parallel()
	cleanSrv, cleanW := faultyServer(t, emulator.Config{Latency: time.Millisecond, TaskDuration: time.Millisecond}, nil)
	clean, err := replay(t, cleanSrv, cleanW)
	if err != nil {
		t.Fatal(err)
	}
	perStep := 4
	if testing.Short() {
		perStep = 2
	}
	for _, seed := range faultSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			for _, first := range []bool{true, false} {
				stepIdx := 2 // the redeploy after a change
				if first {
					stepIdx = 0
				}
				for range perStep {
					n := 1 + rng.Int64N(int64(clean[stepIdx].requests))
					rt := &cancelAfter{}
					srv, w := faultyServer(t, emulator.Config{Latency: time.Millisecond, TaskDuration: time.Millisecond}, func(next http.RoundTripper) http.RoundTripper { rt.next = next; return rt })
					dir := t.TempDir()
					writeTree(t, dir, demoFiles)
					b := reliabilityBundle(dir)
					deploy := func(ctx context.Context) error {
						_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), fastOptions())
						return err
					}
					if !first {
						if err := deploy(context.Background()); err != nil {
							t.Fatal(err)
						}
						changeBundle(t, dir, b)
					}
					ctx, cancel := context.WithCancel(context.Background())
					rt.arm(n, cancel)
					err := deploy(ctx)
					cancel()
					if err == nil && rt.seen.Load() < int64(clean[stepIdx].requests)-2 {
						t.Errorf("first=%v n=%d: deploy cancelled at request %d of %d reported success", first, n, n, clean[stepIdx].requests)
					}
					if err != nil && !errors.Is(err, context.Canceled) {
						t.Errorf("first=%v n=%d: error does not say the deploy was cancelled: %v", first, n, err)
					}
					if lockHeld(srv) {
						t.Errorf("first=%v n=%d: lock left behind by the cancelled deploy", first, n)
					}
					rt.arm(0, nil)
					if err := deploy(context.Background()); err != nil {
						t.Fatalf("first=%v n=%d: rerun after cancellation: %v", first, n, err)
					}
					if lockHeld(srv) {
						t.Errorf("first=%v n=%d: lock left behind by the rerun", first, n)
					}
					if diff := cmp.Diff(clean[stepIdx].state, convergedState(t, srv)); diff != "" {
						t.Errorf("first=%v n=%d: state after the rerun differs from a clean deploy (-clean +got):\n%s", first, n, diff)
					}
				}
			}
		})
	}
}

// TestConcurrentDeploysExcludeEachOther starts two deploys of one target at
// once, by two users sharing the workspace: exactly one deploys, the other
// waits LockTimeout and fails naming the holder and the lock's age.
// Sequential deploys then raise the state's serial every time they change
// something.
func TestConcurrentDeploysExcludeEachOther(t *testing.T) {
	t.Parallel()
	// Latency, and an endpoint that takes a while to become ready, make
	// the winner hold the lock far longer than the loser waits, however
	// much of the deploy runs in parallel.
	srv := emulator.New()
	if err := srv.Configure(emulator.Config{Latency: 15 * time.Millisecond, TaskDuration: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	users := []string{"alice@example.com", "bob@example.com"}
	clients := make([]*databricks.WorkspaceClient, len(users))
	for i := range users {
		// Two clients, one token: the emulator keys a workspace by token.
		w, err := databricks.NewWorkspaceClient(&databricks.Config{Host: ts.URL, Token: testToken, AuthType: "pat", RateLimitPerSecond: 10000})
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = w
	}
	const lockTimeout = 60 * time.Millisecond
	start := make(chan struct{})
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, user := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := fastOptions()
			opts.Now = time.Now
			// Lock ids must differ between deployers, as random ones do.
			opts.NewID = nil
			opts.User = user
			opts.LockTimeout = lockTimeout
			opts.LockPoll = 10 * time.Millisecond
			b := reliabilityBundle(dir)
			files := listFiles(t, dir, b.Workspace.FilePath)
			<-start
			_, errs[i] = applyFiles(context.Background(), clients[i], b, files, opts)
		}()
	}
	close(start)
	wg.Wait()
	winner, loser := -1, -1
	for i, err := range errs {
		var held *LockHeldError
		switch {
		case err == nil:
			winner = i
		case errors.As(err, &held):
			loser = i
		default:
			t.Fatalf("%s: unexpected error: %v", users[i], err)
		}
	}
	if winner < 0 || loser < 0 {
		t.Fatalf("want exactly one deploy to succeed and one to find the lock held; errors: %v", errs)
	}
	var held *LockHeldError
	errors.As(errs[loser], &held)
	if held.User != users[winner] || !strings.Contains(errs[loser].Error(), "held by "+users[winner]) {
		t.Errorf("lock error names %q, want the winner %q: %v", held.User, users[winner], errs[loser])
	}
	if held.Age < lockTimeout/2 || held.Age > time.Minute {
		t.Errorf("lock age %s; want about the %s the loser waited", held.Age, lockTimeout)
	}
	for name, list := range srv.JobsByName(testToken) {
		if len(list) != 1 {
			t.Errorf("job %q exists %d times", name, len(list))
		}
	}
	if lockHeld(srv) {
		t.Error("lock left behind")
	}
	t.Logf("%s deployed; %s failed after waiting: %v", users[winner], users[loser], errs[loser])

	// Sequential deploys: the serial rises with every change and stays put
	// when nothing changes. The deploying user owns the jobs, so a deploy
	// by the other user is a change too.
	serial := stateSerial(t, srv)
	b := reliabilityBundle(dir)
	for i, u := range []int{winner, winner, loser} {
		change := i != 1
		if i == 0 {
			b.Jobs["train"].Config["max_concurrent_runs"] = 10
		}
		opts := fastOptions()
		opts.User = users[u]
		if _, err := applyFiles(context.Background(), clients[u], b, listFiles(t, dir, b.Workspace.FilePath), opts); err != nil {
			t.Fatalf("sequential deploy %d: %v", i, err)
		}
		next := stateSerial(t, srv)
		switch {
		case change && next <= serial:
			t.Errorf("deploy %d changed a job but the serial went from %d to %d", i, serial, next)
		case !change && next != serial:
			t.Errorf("deploy %d changed nothing but the serial went from %d to %d", i, serial, next)
		}
		serial = next
	}
}

// TestStaleLockNeedsForce leaves a lock as a cancelled CLI deploy would
// (the CLI's shape, acquired hours ago, never released) and checks that a
// deploy fails with the holder and age until --force-lock takes it over,
// and that a forced deploy releases it. A lock that cannot be parsed is
// taken over the same way.
func TestStaleLockNeedsForce(t *testing.T) {
	t.Parallel()
	for _, content := range []string{
		`{"ID":"5b2f0c4e-cli","AcquisitionTime":"2026-11-27T07:00:00Z","IsForced":false,"User":"ci-runner@example.com"}`,
		`{"ID":"5b2f0c4e-cli","Acquisi`,
	} {
		srv, w := newServer(t, nil)
		b, dir, _ := demoCheckout(t)
		fs := sdkFS{w}
		ctx := context.Background()
		if err := fs.mkdirs(ctx, b.Workspace.StatePath); err != nil {
			t.Fatal(err)
		}
		if err := fs.write(ctx, b.Workspace.StatePath+"/"+lockFile, []byte(content), "", false); err != nil {
			t.Fatal(err)
		}
		opts := testOptions()
		opts.LockTimeout = 20 * time.Millisecond
		_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts)
		var held *LockHeldError
		parsable := json.Valid([]byte(content))
		switch {
		case err == nil:
			t.Fatalf("%s: deployed over a held lock", content)
		case parsable && (!errors.As(err, &held) || held.User != "ci-runner@example.com" || held.Age != 3*time.Hour):
			t.Errorf("%s: got %v, want the holder and an age of 3h", content, err)
		case !strings.Contains(err.Error(), "--force-lock"):
			t.Errorf("%s: error does not say how to take the lock over: %v", content, err)
		}
		if n := len(srv.Jobs(testToken)); n != 0 {
			t.Errorf("%s: %d jobs deployed without the lock", content, n)
		}
		if got := srv.Files(testToken)[strings.TrimPrefix(b.Workspace.StatePath, "/Workspace")+"/"+lockFile]; string(got) != content {
			t.Errorf("%s: the stale lock was changed without --force-lock: %s", content, got)
		}
		opts.ForceLock = true
		if _, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts); err != nil {
			t.Fatalf("%s: forced deploy: %v", content, err)
		}
		if lockHeld(srv) {
			t.Errorf("%s: forced deploy left the lock behind", content)
		}
		if n := len(srv.Jobs(testToken)); n != 2 {
			t.Errorf("%s: forced deploy made %d jobs, want 2", content, n)
		}
	}
}
