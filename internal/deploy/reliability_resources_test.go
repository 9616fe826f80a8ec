package deploy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/google/go-cmp/cmp"
)

// The tests in this file extend the reliability cases of
// reliability_test.go to the Unity Catalog, pipeline and MLflow types:
// the data bundle and the MLOps bundle deployed as one.

// allTypesBundle is dataBundle with the resources of mlopsBundle: every
// resource type deploy handles.
func allTypesBundle(dir string) *bundle.Bundle {
	b := dataBundle(dir)
	ml := mlopsBundle(dir)
	b.ServingEndpoints = ml.ServingEndpoints
	b.Resources = append(b.Resources, ml.Resources...)
	return b
}

// seededServer is faultyServer with the schema and table mlopsBundle uses.
func seededServer(t testing.TB, cfg emulator.Config, wrap func(http.RoundTripper) http.RoundTripper) (*emulator.Server, *databricks.WorkspaceClient) {
	t.Helper()
	srv, w := faultyServer(t, cfg, wrap)
	if err := srv.Seed(testToken, emulator.Seed{Tables: []string{mlTable}}); err != nil {
		t.Fatal(err)
	}
	return srv, w
}

// quick is the emulator configuration of the reliability cases: a
// millisecond of latency and of task duration.
var quick = emulator.Config{Latency: time.Millisecond, TaskDuration: time.Millisecond}

// cleanAllTypes deploys allTypesBundle once without faults and returns
// the state it leaves and the number of requests it took; with change,
// it deploys it again after changeAllTypes and returns the state and the
// requests of that second deploy.
func cleanAllTypes(t *testing.T, change bool) (map[string]string, int) {
	t.Helper()
	srv, w := seededServer(t, quick, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := allTypesBundle(dir)
	if _, err := applyFiles(context.Background(), w, b, listFiles(t, dir, b.Workspace.FilePath), fastOptions()); err != nil {
		t.Fatal(err)
	}
	if !change {
		return convergedState(t, srv), len(srv.Requests())
	}
	changeAllTypes(t, b)
	before := len(srv.Requests())
	if _, err := applyFiles(context.Background(), w, b, listFiles(t, dir, b.Workspace.FilePath), fastOptions()); err != nil {
		t.Fatal(err)
	}
	return convergedState(t, srv), len(srv.Requests()) - before
}

// changeAllTypes edits allTypesBundle as a second commit might: comments
// updated in place, and a volume, an experiment and a monitor replaced.
func changeAllTypes(t testing.TB, b *bundle.Bundle) {
	t.Helper()
	resourceOf(t, b, "schemas", "data").Config["comment"] = "raw data, kept 30 days"
	resourceOf(t, b, "registered_models", "chatbot").Config["comment"] = "answers more questions"
	vol := resourceOf(t, b, "volumes", "landing")
	vol.Config["volume_type"], vol.Config["storage_location"] = "EXTERNAL", "s3://landing-bucket/demo"
	resourceOf(t, b, "experiments", "chatbot").Config["artifact_location"] = "dbfs:/experiments/chatbot"
	resourceOf(t, b, "quality_monitors", "inference").Config["assets_dir"] = "/Workspace/Users/me@example.com/monitors/inference-v2"
}

// checkNoChange redeploys and fails the test when the redeploy writes.
func checkNoChange(t *testing.T, srv *emulator.Server, deploy func(context.Context) error) {
	t.Helper()
	before := len(srv.Requests())
	if err := deploy(context.Background()); err != nil {
		t.Fatalf("redeploy: %v", err)
	}
	if got := writes(requestsSince(srv, before)); len(got) != 0 {
		t.Errorf("redeploy after convergence sent writes: %v", got)
	}
}

// TestAllTypesConvergeUnderFaults deploys every resource type with 10% of
// requests failing with 429 or 503, once per seed: each deploy ends in
// success or an error with the lock released, a rerun converges to the
// state of a clean deploy (one of each resource), and a deploy after that
// changes nothing. The seeds run on goroutines of their own, as in
// TestDeployConvergesUnderFaults.
func TestAllTypesConvergeUnderFaults(t *testing.T) {
	t.Parallel()
	seeds := faultSeeds[:3]
	if testing.Short() {
		seeds = seeds[:1]
	}
	clean, _ := cleanAllTypes(t, false)
	type run struct {
		srv    *emulator.Server
		deploy func(context.Context) error
		errs   []error
		state  map[string]string
		faults int
		locked bool
	}
	runs := make([]*run, len(seeds))
	var wg sync.WaitGroup
	for i, seed := range seeds {
		cfg := quick
		cfg.FaultRate, cfg.Seed = 0.1, seed
		srv, w := seededServer(t, cfg, nil)
		dir := t.TempDir()
		writeTree(t, dir, demoFiles)
		b := allTypesBundle(dir)
		files := listFiles(t, dir, b.Workspace.FilePath)
		r := &run{srv: srv, deploy: func(ctx context.Context) error {
			_, err := applyFiles(ctx, w, b, files, fastOptions())
			return err
		}}
		runs[i] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				err := r.deploy(context.Background())
				r.locked = r.locked || lockHeld(srv)
				if err == nil {
					r.state = convergedState(t, srv)
					break
				}
				r.errs = append(r.errs, err)
			}
			for _, q := range srv.Requests() {
				if q.Status == http.StatusTooManyRequests || q.Status == http.StatusServiceUnavailable {
					r.faults++
				}
			}
		}()
	}
	wg.Wait()
	for i, seed := range seeds {
		r := runs[i]
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			if r.faults == 0 {
				t.Fatal("no fault was injected; the case proves nothing")
			}
			if r.locked {
				t.Error("a deploy under faults left the lock behind")
			}
			if r.state == nil {
				t.Fatalf("three deploys under faults failed: %v", r.errs)
			}
			for _, err := range r.errs {
				t.Logf("a deploy under faults failed, and the next one converged: %v", err)
			}
			if diff := cmp.Diff(clean, r.state); diff != "" {
				t.Errorf("state differs from a clean deploy (-clean +faulty):\n%s", diff)
			}
			if err := r.srv.Configure(quick); err != nil {
				t.Fatal(err)
			}
			checkNoChange(t, r.srv, r.deploy)
			t.Logf("%d faults injected", r.faults)
		})
	}
}

// TestCancelledAllTypesDeployResumes cancels a first deploy of every
// resource type, and separately a redeploy after changeAllTypes (updates
// in place and replaces), after a pseudo-random number of requests, a few
// per seed, then deploys again: the workspace holds exactly what a clean
// deploy leaves (one of each resource; the rerun adopts what the
// cancelled one created with each type's find), the lock is released,
// and a deploy after that changes nothing.
func TestCancelledAllTypesDeployResumes(t *testing.T) {
	t.Parallel()
	perSeed := 3
	if testing.Short() {
		perSeed = 1
	}
	for _, change := range []bool{false, true} {
		clean, total := cleanAllTypes(t, change)
		for _, seed := range faultSeeds {
			t.Run(fmt.Sprintf("change=%v/seed=%d", change, seed), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(seed, 0xa11))
				for range perSeed {
					n := 1 + rng.Int64N(int64(total))
					rt := &cancelAfter{}
					srv, w := seededServer(t, quick, func(next http.RoundTripper) http.RoundTripper { rt.next = next; return rt })
					dir := t.TempDir()
					writeTree(t, dir, demoFiles)
					b := allTypesBundle(dir)
					deploy := func(ctx context.Context) error {
						_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), fastOptions())
						return err
					}
					if change {
						if err := deploy(context.Background()); err != nil {
							t.Fatal(err)
						}
						changeAllTypes(t, b)
					}
					ctx, cancel := context.WithCancel(context.Background())
					rt.arm(n, cancel)
					err := deploy(ctx)
					cancel()
					if !srv.WaitIdle(5 * time.Second) {
						t.Fatalf("n=%d: the emulator is still busy after the cancelled deploy", n)
					}
					if err == nil && rt.seen.Load() < int64(total)-2 {
						t.Errorf("n=%d: deploy cancelled at request %d of %d reported success", n, n, total)
					}
					if err != nil && !errors.Is(err, context.Canceled) {
						t.Errorf("n=%d: error does not say the deploy was cancelled: %v", n, err)
					}
					if lockHeld(srv) {
						t.Errorf("n=%d: lock left behind by the cancelled deploy", n)
					}
					rt.arm(0, nil)
					if err := deploy(context.Background()); err != nil {
						t.Fatalf("n=%d: rerun after cancellation: %v", n, err)
					}
					if diff := cmp.Diff(clean, convergedState(t, srv)); diff != "" {
						t.Errorf("n=%d: state after the rerun differs from a clean deploy (-clean +got):\n%s", n, diff)
					}
					checkNoChange(t, srv, deploy)
				}
			})
		}
	}
}

// TestConcurrentAllTypesDeploysExcludeEachOther starts two deploys of
// every resource type at once, by two users: exactly one deploys, the
// other finds the lock held, and nothing exists twice. The other user
// then deploys and still nothing exists twice.
func TestConcurrentAllTypesDeploysExcludeEachOther(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	if err := srv.Configure(emulator.Config{Latency: 15 * time.Millisecond, TaskDuration: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Seed(testToken, emulator.Seed{Tables: []string{mlTable}}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	users := []string{"alice@example.com", "bob@example.com"}
	clients := make([]*databricks.WorkspaceClient, len(users))
	for i := range users {
		w, err := databricks.NewWorkspaceClient(&databricks.Config{Host: ts.URL, Token: testToken, AuthType: "pat", RateLimitPerSecond: 10000})
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = w
	}
	deploy := func(i int, timeout time.Duration) error {
		opts := fastOptions()
		opts.Now, opts.NewID = time.Now, nil
		opts.User = users[i]
		opts.LockTimeout, opts.LockPoll = timeout, 10*time.Millisecond
		b := allTypesBundle(dir)
		_, err := applyFiles(context.Background(), clients[i], b, listFiles(t, dir, b.Workspace.FilePath), opts)
		return err
	}
	start := make(chan struct{})
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = deploy(i, 60*time.Millisecond)
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
	checkSingles(t, srv)
	if err := deploy(loser, time.Minute); err != nil {
		t.Fatalf("%s deploying after %s: %v", users[loser], users[winner], err)
	}
	checkSingles(t, srv)
	if lockHeld(srv) {
		t.Error("lock left behind")
	}
}

// checkSingles fails the test when a resource of allTypesBundle does not
// exist exactly once.
func checkSingles(t *testing.T, srv *emulator.Server) {
	t.Helper()
	count := map[string]int{}
	for _, s := range srv.Pipelines(testToken) {
		count["pipeline "+s.Name]++
	}
	for name, list := range srv.JobsByName(testToken) {
		count["job "+name] += len(list)
	}
	for name, e := range srv.Experiments(testToken) {
		if e.LifecycleStage == "active" {
			count["experiment "+strings.TrimPrefix(name, "/Users/me@example.com/")]++
		}
	}
	for name := range srv.Models(testToken) {
		count["model "+name]++
	}
	for name := range srv.RegisteredModels(testToken) {
		count["registered model "+name]++
	}
	for name := range srv.Volumes(testToken) {
		count["volume "+name]++
	}
	for name := range srv.Monitors(testToken) {
		count["monitor "+name]++
	}
	for name := range srv.Endpoints(testToken) {
		count["endpoint "+name]++
	}
	want := map[string]int{
		"pipeline " + pipelineName: 1, "job refresh": 1, "job orchestrate": 1,
		"experiment experiments/demo/chatbot": 1, "model demo-legacy-model": 1, "registered model " + mlModel: 1,
		"volume " + dataVolume: 1, "monitor " + mlTable: 1, "endpoint " + endpointName: 1,
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("resources by name (-want +got):\n%s", diff)
	}
}

// TestLostCreateOfEachTypeIsAdopted loses the answer to the create of
// each resource type in turn, as a connection dropped after the
// workspace did the work: the deploy fails, and the next one finds the
// resource by its name (each type's find) and records it, so the
// workspace ends as after a clean deploy, with nothing twice.
func TestLostCreateOfEachTypeIsAdopted(t *testing.T) {
	t.Parallel()
	clean, _ := cleanAllTypes(t, false)
	for _, c := range []struct{ name, method, suffix string }{
		{"schema", http.MethodPost, "/unity-catalog/schemas"},
		{"volume", http.MethodPost, "/unity-catalog/volumes"},
		{"registered model", http.MethodPost, "/unity-catalog/models"},
		{"quality monitor", http.MethodPost, "/monitor"},
		{"pipeline", http.MethodPost, "/api/2.0/pipelines"},
		{"experiment", http.MethodPost, "/mlflow/experiments/create"},
		{"model", http.MethodPost, "/mlflow/registered-models/create"},
		{"serving endpoint", http.MethodPost, "/api/2.0/serving-endpoints"},
		{"job", http.MethodPost, "/jobs/create"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rt := &dropAnswer{cancel: cancel, match: func(r *http.Request) bool {
				return r.Method == c.method && strings.HasSuffix(r.URL.Path, c.suffix)
			}}
			srv, w := seededServer(t, quick, func(next http.RoundTripper) http.RoundTripper { rt.next = next; return rt })
			dir := t.TempDir()
			writeTree(t, dir, demoFiles)
			b := allTypesBundle(dir)
			deploy := func(ctx context.Context) error {
				_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), fastOptions())
				return err
			}
			if err := deploy(ctx); err == nil {
				t.Fatal("a deploy whose create lost its answer reported success")
			}
			if !srv.WaitIdle(5 * time.Second) {
				t.Fatal("the emulator is still busy after the interrupted deploy")
			}
			if !rt.dropped {
				t.Fatalf("no %s create was sent", c.name)
			}
			if err := deploy(context.Background()); err != nil {
				t.Fatalf("redeploy: %v", err)
			}
			checkSingles(t, srv)
			if diff := cmp.Diff(clean, convergedState(t, srv)); diff != "" {
				t.Errorf("state after the redeploy differs from a clean deploy (-clean +got):\n%s", diff)
			}
		})
	}
}
