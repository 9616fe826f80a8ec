package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/google/go-cmp/cmp"
)

// tripRecorder is a RoundTripper that records when each request started
// and ended, to count sequential round trips.
type tripRecorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	trips []trip
}

type trip struct{ start, end time.Time }

func (r *tripRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := r.next.RoundTrip(req)
	r.mu.Lock()
	r.trips = append(r.trips, trip{start, time.Now()})
	r.mu.Unlock()
	return resp, err
}

// since returns the sequential round trips among the requests after the
// first n: the longest chain of requests each sent after the one before it
// was answered.
func (r *tripRecorder) since(n int) (requests, roundTrips int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	trips := slices.Clone(r.trips[n:])
	// Depths are filled in order of start, so that every request answered
	// before one started already has its depth.
	slices.SortFunc(trips, func(a, b trip) int { return a.start.Compare(b.start) })
	depth := make([]int, len(trips))
	for i, t := range trips {
		depth[i] = 1
		for k, u := range trips[:i] {
			if !u.end.After(t.start) {
				depth[i] = max(depth[i], depth[k]+1)
			}
		}
		roundTrips = max(roundTrips, depth[i])
	}
	return len(trips), roundTrips
}

func (r *tripRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.trips)
}

// TestNoChangeDeployIsOneRoundTrip checks that a no-change redeploy sends
// the three reads of the probe at once and nothing else, and counts the
// sequential round trips of a redeploy after one file changed.
func TestNoChangeDeployIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	rec := &tripRecorder{}
	srv, w := newServer(t, func(next http.RoundTripper) http.RoundTripper { rec.next = next; return rec })
	b, dir, _ := demoCheckout(t)
	deploy := func() *Result {
		t.Helper()
		res, err := applyFiles(context.Background(), w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	deploy()
	serial := stateSerial(t, srv)
	// Latency far above scheduling noise makes the count deterministic.
	if err := srv.Configure(emulator.Config{Latency: 40 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}

	before := rec.count()
	if res := deploy(); res.Changed {
		t.Fatal("redeploy of an unchanged bundle changed something")
	}
	if n, rt := rec.since(before); n != 3 || rt != 1 {
		t.Errorf("no-change deploy: %d requests in %d round trips, want 3 in 1", n, rt)
	}
	if got := stateSerial(t, srv); got != serial {
		t.Errorf("no-change deploy moved the serial from %d to %d", serial, got)
	}
	if lockHeld(srv) {
		t.Error("lock left behind")
	}

	writeTree(t, dir, map[string]string{"notebooks/train.py": "# Databricks notebook source\nprint('train v2')\n"})
	before = rec.count()
	reqBefore := len(srv.Requests())
	if res := deploy(); !res.Changed || res.Uploaded != 1 {
		t.Fatalf("one-file change: changed %v, uploaded %d; want one upload", res.Changed, res.Uploaded)
	}
	// The probe; the lock; its read-back with the state; the upload with
	// metadata.json; deployment.json with the lock read for release; the
	// lock's delete.
	n, rt := rec.since(before)
	if n != 12 || rt != 6 {
		t.Errorf("one-file change: %d requests in %d round trips, want 12 in 6: %v", n, rt, requestLines(requestsSince(srv, reqBefore)))
	}
}

// lockHider answers the first export of deploy.lock with "does not exist"
// without asking the workspace, as a workspace does when the lock read is
// served just before another deploy takes the lock.
type lockHider struct {
	next   http.RoundTripper
	mu     sync.Mutex
	hidden bool
}

func (h *lockHider) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	hide := !h.hidden && strings.HasSuffix(req.URL.Query().Get("path"), "/"+lockFile) && strings.HasSuffix(req.URL.Path, "/workspace/export")
	if hide {
		h.hidden = true
	}
	h.mu.Unlock()
	if !hide {
		return h.next.RoundTrip(req)
	}
	body := `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Path (` + req.URL.Query().Get("path") + `) doesn't exist."}`
	return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// TestProbeRefusesPartialState plays the race the probe must not lose: a
// deploy by bob holds the lock and has written part of its changes to
// resources.json, and the probe's read of the lock was served before bob
// took it, so the probe sees no lock. The state bob has written so far
// matches our bundle exactly. The probe must not report "no change" from
// that state; the deploy must go for the lock and find bob's. A state that
// bob has not changed yet (his lock taken, nothing written) is correctly
// reported unchanged: that deploy is ordered before bob's.
func TestProbeRefusesPartialState(t *testing.T) {
	t.Parallel()
	for _, partial := range []bool{true, false} {
		hider := &lockHider{}
		srv, w := newServer(t, func(next http.RoundTripper) http.RoundTripper { hider.next = next; return hider })
		b, dir, _ := demoCheckout(t)
		ctx := context.Background()
		fs := sdkFS{w}
		hider.mu.Lock()
		hider.hidden = true // not during the set-up
		hider.mu.Unlock()
		if _, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions()); err != nil {
			t.Fatal(err)
		}
		statePath := b.Workspace.StatePath
		if partial {
			// Bob's first write: resources.json as our bundle has it, with
			// the next serial; his deployment.json is still to come.
			data, err := fs.read(ctx, statePath+"/"+resourcesFile)
			if err != nil {
				t.Fatal(err)
			}
			var rs ResourcesState
			if err := decodeJSON(data, &rs); err != nil {
				t.Fatal(err)
			}
			if err := writeResources(ctx, fs, statePath, &rs); err != nil {
				t.Fatal(err)
			}
		}
		bob, _ := json.Marshal(lockInfo{ID: "bob-lock", AcquisitionTime: fixedNow.Add(-time.Minute), User: "bob@example.com"})
		if err := fs.write(ctx, statePath+"/"+lockFile, bob, "", false); err != nil {
			t.Fatal(err)
		}
		hider.mu.Lock()
		hider.hidden = false
		hider.mu.Unlock()

		before := len(srv.Requests())
		res, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions())
		reqs := requestsSince(srv, before)
		var held *LockHeldError
		switch {
		case partial && (err == nil || !errors.As(err, &held) || held.User != "bob@example.com"):
			t.Errorf("partial state: got %v (changed %v), want the deploy to find bob's lock", err, res != nil && res.Changed)
		case partial && countPath(reqs, "/workspace/import") != 1:
			t.Errorf("partial state: %d imports, want exactly the one lock attempt: %v", countPath(reqs, "/workspace/import"), requestLines(reqs))
		case !partial && (err != nil || res.Changed || len(reqs) != 2):
			// Three reads, one of them answered by the hider.
			t.Errorf("finished state: got %v, changed %v, %d requests to the workspace; want no change from the probe alone", err, res != nil && res.Changed, len(reqs))
		}
		if got, _ := fs.read(ctx, statePath+"/"+lockFile); string(got) != string(bob) {
			t.Errorf("partial=%v: bob's lock was changed: %s", partial, got)
		}
	}
}

// TestStateWithoutRecordIsUpgradedOnce deploys, removes from
// deployment.json the record of resources.json (as an earlier brickci wrote
// it) and checks that the next unchanged deploy takes the lock and writes
// deployment.json once, leaving resources.json alone, after which unchanged
// deploys need no lock.
func TestStateWithoutRecordIsUpgradedOnce(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	b, dir, _ := demoCheckout(t)
	ctx := context.Background()
	fs := sdkFS{w}
	deploy := func() []string {
		t.Helper()
		before := len(srv.Requests())
		res, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed {
			t.Error("an unchanged bundle was reported changed")
		}
		return requestLines(requestsSince(srv, before))
	}
	if _, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions()); err != nil {
		t.Fatal(err)
	}
	depPath := b.Workspace.StatePath + "/" + deploymentFile
	data, err := fs.read(ctx, depPath)
	if err != nil {
		t.Fatal(err)
	}
	var ds map[string]any
	if err := json.Unmarshal(data, &ds); err != nil {
		t.Fatal(err)
	}
	if _, ok := ds["brickci_resources"]; !ok {
		t.Fatalf("deployment.json records no resources.json: %s", data)
	}
	delete(ds, "brickci_resources")
	old, _ := json.Marshal(ds)
	if err := fs.write(ctx, depPath, old, "", true); err != nil {
		t.Fatal(err)
	}
	serial := stateSerial(t, srv)

	upgrade := deploy()
	want := []string{
		"GET /api/2.0/workspace/export", "GET /api/2.0/workspace/export", "GET /api/2.0/workspace/export", // probe
		"POST /api/2.0/workspace/import",                                                                  // lock
		"GET /api/2.0/workspace/export", "GET /api/2.0/workspace/export", "GET /api/2.0/workspace/export", // read back, state
		"GET /api/2.0/workspace/export", "POST /api/2.0/workspace/import", // lock read for release, deployment.json
		"POST /api/2.0/workspace/delete", // release
	}
	// Requests sent together arrive in any order.
	if len(upgrade) == len(want) {
		slices.Sort(upgrade[7:9])
	}
	if diff := cmp.Diff(want, upgrade); diff != "" {
		t.Errorf("upgrading deploy (-want +got):\n%s", diff)
	}
	if got := stateSerial(t, srv); got != serial {
		t.Errorf("the upgrade moved resources.json's serial from %d to %d", serial, got)
	}
	if next := deploy(); len(next) != 3 {
		t.Errorf("deploy after the upgrade made %d requests, want the 3 of the probe: %v", len(next), next)
	}
}

// beforeFirstImport runs hook once, just before the first workspace import
// it forwards after being armed.
type beforeFirstImport struct {
	next http.RoundTripper
	mu   sync.Mutex
	hook func()
}

func (b *beforeFirstImport) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	hook := b.hook
	if hook != nil && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/workspace/import") {
		b.hook = nil
	} else {
		hook = nil
	}
	b.mu.Unlock()
	if hook != nil {
		hook()
	}
	return b.next.RoundTrip(req)
}

// TestStateChangedAfterProbeIsPlannedAgain lets bob deploy the very change
// this deploy is about to make between its probe and its lock: the deploy
// must plan again from the state read under the lock and find nothing left
// to do, instead of applying the plan its probe made.
func TestStateChangedAfterProbeIsPlannedAgain(t *testing.T) {
	t.Parallel()
	hook := &beforeFirstImport{}
	srv, w := newServer(t, func(next http.RoundTripper) http.RoundTripper { hook.next = next; return hook })
	b, dir, _ := demoCheckout(t)
	ctx := context.Background()
	if _, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions()); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"notebooks/train.py": "# Databricks notebook source\nprint('train v2')\n"})
	b.Jobs["train"].Config["max_concurrent_runs"] = 2
	bobErr := errors.New("bob did not deploy")
	hook.mu.Lock()
	hook.hook = func() {
		// Bob's client does not go through the hook.
		bobOpts := testOptions()
		bobOpts.User = testUser
		bobOpts.NewID = func() string { return "bob-" + strings.Repeat("0", 8) }
		_, bobErr = applyFiles(ctx, w2(t, srv, w), b, listFiles(t, dir, b.Workspace.FilePath), bobOpts)
	}
	hook.mu.Unlock()
	before := len(srv.Requests())
	res, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if bobErr != nil {
		t.Fatalf("bob's deploy: %v", bobErr)
	}
	if res.Changed || res.Uploaded != 0 {
		t.Errorf("deploy after bob's: changed %v, uploaded %d; want nothing left to do", res.Changed, res.Uploaded)
	}
	resets := 0
	for _, r := range requestsSince(srv, before) {
		if strings.HasSuffix(r.Path, "/jobs/reset") {
			resets++
		}
	}
	if resets != 1 {
		t.Errorf("%d job resets in all, want bob's one", resets)
	}
}

// w2 is a second client of the emulator behind w, without w's transport.
func w2(t *testing.T, srv *emulator.Server, w *databricks.WorkspaceClient) *databricks.WorkspaceClient {
	t.Helper()
	c, err := databricks.NewWorkspaceClient(&databricks.Config{Host: w.Config.Host, Token: testToken, AuthType: "pat", RateLimitPerSecond: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
