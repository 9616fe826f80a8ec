package deploy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/brickci/brickci/internal/throttle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/google/go-cmp/cmp"
)

// benchLatency is the latency the emulator adds to every request in
// benchmarks, about what a CI runner sees talking to a cloud workspace.
const benchLatency = 20 * time.Millisecond

// benchSize describes a generated bundle.
type benchSize struct {
	name  string
	files int // files synced, databricks.yml and resources included
	dirs  int // directories the generated sources are spread over
	jobs  int // jobs, three tasks each
}

var (
	smallBundle = benchSize{name: "small", files: 12, dirs: 2, jobs: 2}
	largeBundle = benchSize{name: "large", files: 2000, dirs: 50, jobs: 100}
)

// writeBenchBundle writes a bundle of size sz into dir: databricks.yml with
// a staging target, resources/jobs.yml and generated sources under
// src/pkgNN, every fourth of them a notebook. Each job runs three tasks
// (two notebooks, then a third notebook or, for every fifth job, a
// run_job_task of the previous job through ${resources.jobs.<key>.id}).
func writeBenchBundle(t testing.TB, dir string, sz benchSize) {
	t.Helper()
	files := map[string]string{
		"databricks.yml": `bundle:
  name: bench
include:
  - resources/*.yml
targets:
  staging:
    mode: production
    workspace:
      host: https://bench.cloud.databricks.com
      root_path: /Workspace/Shared/.bundle/${bundle.name}/${bundle.target}
`,
	}
	sources := sz.files - 2
	var notebooks []string
	for i := range sources {
		d := fmt.Sprintf("src/pkg%02d", i%sz.dirs)
		if i%4 == 0 {
			rel := fmt.Sprintf("%s/nb_%04d.py", d, i)
			files[rel] = fmt.Sprintf("# Databricks notebook source\nprint(%d)\n\n# COMMAND ----------\n\nprint('step two of %d')\n", i, i)
			notebooks = append(notebooks, rel)
			continue
		}
		files[fmt.Sprintf("%s/mod_%04d.py", d, i)] = fmt.Sprintf("def value_%d():\n    return %d\n", i, i)
	}
	var jobs strings.Builder
	jobs.WriteString("resources:\n  jobs:\n")
	for i := range sz.jobs {
		nb := func(k int) string { return "../" + notebooks[(3*i+k)%len(notebooks)] }
		fmt.Fprintf(&jobs, `    job_%03d:
      name: bench-job-%03d
      job_clusters:
        - job_cluster_key: main
          new_cluster:
            spark_version: 15.4.x-scala2.12
            node_type_id: i3.xlarge
            num_workers: 1
      tasks:
        - task_key: prepare
          job_cluster_key: main
          notebook_task:
            notebook_path: %s
        - task_key: train
          depends_on:
            - task_key: prepare
          job_cluster_key: main
          notebook_task:
            notebook_path: %s
`, i, i, nb(0), nb(1))
		if i%5 == 4 {
			fmt.Fprintf(&jobs, `        - task_key: downstream
          depends_on:
            - task_key: train
          run_job_task:
            job_id: ${resources.jobs.job_%03d.id}
`, i-1)
		} else {
			fmt.Fprintf(&jobs, `        - task_key: evaluate
          depends_on:
            - task_key: train
          job_cluster_key: main
          notebook_task:
            notebook_path: %s
`, nb(2))
		}
	}
	files["resources/jobs.yml"] = jobs.String()
	writeTree(t, dir, files)
}

// benchFixture is a generated bundle, loaded as bundle.Load and bundle.Files
// load it, and an emulator to deploy it to through a client set up as the
// brickci binary sets it up: the throttling transport and brickci's rate
// ceiling. trips records the client's round trips.
type benchFixture struct {
	dir      string
	b        *bundle.Bundle
	files    []bundle.File
	srv      *emulator.Server
	w        *databricks.WorkspaceClient
	trips    *tripRecorder
	throttle *throttle.Transport
}

func newBenchFixture(t testing.TB, sz benchSize) *benchFixture {
	t.Helper()
	dir := t.TempDir()
	writeBenchBundle(t, dir, sz)
	u := bundle.NewUser(testUser)
	b, findings, err := bundle.Load(bundle.LoadOptions{Dir: dir, Target: "staging", CurrentUser: &u})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Severity == diag.Error {
			t.Fatalf("generated bundle: %v", f)
		}
	}
	files, err := bundle.Files(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != sz.files || len(b.Jobs) != sz.jobs {
		t.Fatalf("generated bundle has %d files and %d jobs, want %d and %d", len(files), len(b.Jobs), sz.files, sz.jobs)
	}
	srv := emulator.New()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	thr := throttle.New(nil, 0)
	trips := &tripRecorder{next: thr}
	w, err := databricks.NewWorkspaceClient(&databricks.Config{
		Host: ts.URL, Token: testToken, AuthType: "pat",
		RateLimitPerSecond: throttle.DefaultRateLimit, HTTPTransport: trips,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &benchFixture{dir: dir, b: b, files: files, srv: srv, w: w, trips: trips, throttle: thr}
}

// deploy applies the bundle and returns the requests it made.
func (f *benchFixture) deploy(t testing.TB, opts Options) (*Result, []emulator.Request) {
	res, reqs, _ := f.deployCounted(t, opts)
	return res, reqs
}

// deployCounted is deploy that also returns the sequential round trips.
func (f *benchFixture) deployCounted(t testing.TB, opts Options) (*Result, []emulator.Request, int) {
	t.Helper()
	before, tripsBefore := len(f.srv.Requests()), f.trips.count()
	res, err := Apply(context.Background(), f.w, f.b, f.files, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, rt := f.trips.since(tripsBefore)
	return res, requestsSince(f.srv, before), rt
}

// setLatency makes the emulator delay every request by d.
func (f *benchFixture) setLatency(t testing.TB, d time.Duration) {
	t.Helper()
	f.configure(t, emulator.Config{Latency: d})
}

// configure replaces the emulator's injected behaviour.
func (f *benchFixture) configure(t testing.TB, cfg emulator.Config) {
	t.Helper()
	if err := f.srv.Configure(cfg); err != nil {
		t.Fatal(err)
	}
}

// editFile rewrites one generated notebook with content that differs in
// every round.
func (f *benchFixture) editFile(t testing.TB, round int) {
	t.Helper()
	p := filepath.Join(f.dir, "src", "pkg00", "nb_0000.py")
	if err := os.WriteFile(p, fmt.Appendf(nil, "# Databricks notebook source\nprint('round %d')\n", round), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tally sums what the deploys of a benchmark did.
type tally struct {
	requests, uploads, roundTrips, throttled int
}

func (t *tally) add(res *Result, reqs []emulator.Request, roundTrips int) {
	t.requests += len(reqs)
	t.uploads += res.Uploaded
	t.roundTrips += roundTrips
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			t.throttled++
		}
	}
}

// report records requests (429 answers included), uploads, sequential
// round trips and throttled requests per operation.
func (t *tally) report(b *testing.B) {
	n := float64(b.N)
	b.ReportMetric(float64(t.requests)/n, "requests/op")
	b.ReportMetric(float64(t.uploads)/n, "uploads/op")
	b.ReportMetric(float64(t.roundTrips)/n, "round-trips/op")
	if t.throttled > 0 {
		b.ReportMetric(float64(t.throttled)/n, "throttled/op")
	}
}

// benchRateLimit is the request rate the throttling cases let the emulator
// admit per second, far below what --parallel 8 sends at benchLatency.
const benchRateLimit = 200

// BenchmarkFirstDeploy deploys a bundle to an empty workspace: the small
// one with the default upload parallelism (8), the large one with
// Options.Parallel 1, 8, 32 and 64, and (throttled-N) with the emulator
// admitting benchRateLimit requests per second.
func BenchmarkFirstDeploy(b *testing.B) {
	cases := []struct {
		name      string
		size      benchSize
		parallel  int
		rateLimit float64
	}{
		{"small", smallBundle, 0, 0},
		{"large-parallel-1", largeBundle, 1, 0},
		{"large-parallel-8", largeBundle, 8, 0},
		{"large-parallel-32", largeBundle, 32, 0},
		{"large-parallel-64", largeBundle, 64, 0},
		{"large-throttled-8", largeBundle, 8, benchRateLimit},
		{"large-throttled-32", largeBundle, 32, benchRateLimit},
		{"large-throttled-64", largeBundle, 64, benchRateLimit},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newBenchFixture(b, c.size)
			f.configure(b, emulator.Config{Latency: benchLatency, RateLimit: c.rateLimit})
			opts := testOptions()
			opts.Parallel = c.parallel
			var sum tally
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f.srv.Reset()
				b.StartTimer()
				sum.add(f.deployCounted(b, opts))
			}
			b.StopTimer()
			sum.report(b)
			b.ReportMetric(float64(sum.uploads)/b.Elapsed().Seconds(), "files/s")
			// A deploy that met throttling must still have deployed it all.
			if plan, err := Plan(context.Background(), f.w, f.b, f.files); err != nil || plan.Changed() {
				b.Fatalf("plan after the deploy: changed %v, error %v; want no change", plan != nil && plan.Changed(), err)
			}
		})
	}
}

// BenchmarkNoChangeRedeploy redeploys a bundle that is already deployed.
func BenchmarkNoChangeRedeploy(b *testing.B) {
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		b.Run(sz.name, func(b *testing.B) {
			f := newBenchFixture(b, sz)
			f.deploy(b, testOptions())
			f.setLatency(b, benchLatency)
			var sum tally
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sum.add(f.deployCounted(b, testOptions()))
			}
			sum.report(b)
		})
	}
}

// BenchmarkOneFileChange redeploys a deployed bundle after one notebook
// changed.
func BenchmarkOneFileChange(b *testing.B) {
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		b.Run(sz.name, func(b *testing.B) {
			f := newBenchFixture(b, sz)
			f.deploy(b, testOptions())
			f.setLatency(b, benchLatency)
			var sum tally
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f.editFile(b, i)
				b.StartTimer()
				sum.add(f.deployCounted(b, testOptions()))
			}
			sum.report(b)
		})
	}
}

// BenchmarkCLIHandoff deploys with brickci a bundle the Databricks CLI
// deployed last: the CLI's deployment.json lists the files without hashes,
// so brickci compares them with one export of the file path (see
// verifyForeignSnapshot) instead of uploading every file. The jobs are
// already what the bundle says, as after a CLI deploy of the same bundle.
func BenchmarkCLIHandoff(b *testing.B) {
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		b.Run(sz.name, func(b *testing.B) {
			f := newBenchFixture(b, sz)
			f.deploy(b, testOptions())
			local, err := localFiles(f.b, f.files)
			if err != nil {
				b.Fatal(err)
			}
			var sum tally
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f.setLatency(b, 0)
				cliSyncFiles(b, context.Background(), f.w, f.b, local, 100+i)
				f.setLatency(b, benchLatency)
				b.StartTimer()
				sum.add(f.deployCounted(b, testOptions()))
			}
			sum.report(b)
		})
	}
}

// sortedLines is requestLines sorted: requests sent together arrive in any
// order.
func sortedLines(reqs []emulator.Request) []string {
	lines := requestLines(reqs)
	sort.Strings(lines)
	return lines
}

// requestLines renders requests as "METHOD path" lines.
func requestLines(reqs []emulator.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + r.Path
	}
	return out
}

// TestNoChangeCostIsConstant deploys a small and a large generated bundle
// and checks that redeploying either unchanged, or after one notebook
// changed, sends the same requests: the cost of a deploy follows what
// changed, not the size of the bundle.
func TestNoChangeCostIsConstant(t *testing.T) {
	t.Parallel()
	small := newBenchFixture(t, smallBundle)
	large := newBenchFixture(t, largeBundle)
	for _, f := range []*benchFixture{small, large} {
		if res, _ := f.deploy(t, testOptions()); res.Uploaded != len(f.files) {
			t.Fatalf("first deploy uploaded %d files, want %d", res.Uploaded, len(f.files))
		}
	}

	smallRes, smallReqs := small.deploy(t, testOptions())
	largeRes, largeReqs := large.deploy(t, testOptions())
	if smallRes.Changed || largeRes.Changed || smallRes.Uploaded+largeRes.Uploaded != 0 {
		t.Errorf("no-change redeploys changed something: small %+v, large %+v", smallRes, largeRes)
	}
	if len(largeReqs) != 3 {
		t.Errorf("no-change redeploy of the large bundle made %d requests, want the 3 reads of the probe: %v", len(largeReqs), requestLines(largeReqs))
	}
	if diff := cmp.Diff(requestLines(smallReqs), requestLines(largeReqs)); diff != "" {
		t.Errorf("no-change redeploy requests differ between %d and %d files (-small +large):\n%s", len(small.files), len(large.files), diff)
	}

	small.editFile(t, 1)
	large.editFile(t, 1)
	smallRes, smallReqs = small.deploy(t, testOptions())
	largeRes, largeReqs = large.deploy(t, testOptions())
	if smallRes.Uploaded != 1 || largeRes.Uploaded != 1 {
		t.Errorf("one-file-change redeploys uploaded %d (small) and %d (large) files, want 1", smallRes.Uploaded, largeRes.Uploaded)
	}
	if diff := cmp.Diff(sortedLines(smallReqs), sortedLines(largeReqs)); diff != "" {
		t.Errorf("one-file-change redeploy requests differ between %d and %d files (-small +large):\n%s", len(small.files), len(large.files), diff)
	}
}

// TestCLIHandoffCostIsConstant hands a small and a large generated bundle
// over from the CLI to brickci and checks that the deploy sends the same
// requests for both: one export of the file path, no uploads.
func TestCLIHandoffCostIsConstant(t *testing.T) {
	t.Parallel()
	var lines [][]string
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		f := newBenchFixture(t, sz)
		f.deploy(t, testOptions())
		local, err := localFiles(f.b, f.files)
		if err != nil {
			t.Fatal(err)
		}
		cliSyncFiles(t, context.Background(), f.w, f.b, local, 2)
		res, reqs := f.deploy(t, testOptions())
		// The probe (lock and two state files), the lock (create, read
		// back, read before release, delete), the state under it, one
		// export of the file path and brickci's deployment.json.
		if res.Uploaded != 0 || len(reqs) > 11 {
			t.Errorf("%s hand-off: uploaded %d files in %d requests; want 0 uploads in at most 11 requests: %v", sz.name, res.Uploaded, len(reqs), requestLines(reqs))
		}
		lines = append(lines, sortedLines(reqs))
	}
	if diff := cmp.Diff(lines[0], lines[1]); diff != "" {
		t.Errorf("hand-off requests differ between the small and the large bundle (-small +large):\n%s", diff)
	}
}

// TestThrottledFirstDeployConverges deploys a 300-file bundle at
// --parallel 32 to a workspace that admits 100 requests per second: the
// deploy must meet 429s, slow down (the throttling transport's window
// shrinks), upload every file once and leave a state that plans as
// unchanged.
func TestThrottledFirstDeployConverges(t *testing.T) {
	t.Parallel()
	f := newBenchFixture(t, benchSize{name: "medium", files: 300, dirs: 10, jobs: 10})
	f.configure(t, emulator.Config{RateLimit: 100})
	opts := testOptions()
	opts.Parallel = 32
	res, reqs := f.deploy(t, opts)
	throttled := 0
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	st := f.throttle.Stats()
	if throttled == 0 || st.Throttled != throttled || st.Decreases == 0 || st.MinWindow >= opts.Parallel {
		t.Errorf("emulator answered %d requests 429; transport stats %+v; want 429s seen, and the window brought below %d", throttled, st, opts.Parallel)
	}
	if res.Uploaded != len(f.files) {
		t.Errorf("uploaded %d files, want %d", res.Uploaded, len(f.files))
	}
	if got := countPath(reqs, "/workspace/import") - countStatus(reqs, "/workspace/import", http.StatusTooManyRequests); got < len(f.files) {
		t.Errorf("%d imports answered, fewer than the %d files", got, len(f.files))
	}
	for name, list := range f.srv.JobsByName(testToken) {
		if len(list) != 1 {
			t.Errorf("job %q exists %d times", name, len(list))
		}
	}
	if n := len(f.srv.Jobs(testToken)); n != len(f.b.Jobs) {
		t.Errorf("%d jobs deployed, want %d", n, len(f.b.Jobs))
	}
	plan, err := Plan(context.Background(), f.w, f.b, f.files)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changed() {
		t.Errorf("plan after the throttled deploy shows changes: %+v", plan.Files)
	}
	if lockHeld(f.srv) {
		t.Error("lock left behind")
	}
	t.Logf("%d requests, %d answered 429; window down to %d", len(reqs), throttled, st.MinWindow)
}

// countStatus counts the requests to paths ending in suffix answered with
// status.
func countStatus(reqs []emulator.Request, suffix string, status int) int {
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, suffix) && r.Status == status {
			n++
		}
	}
	return n
}

// BenchmarkNoChangeRedeployResources redeploys, unchanged, the data
// bundle (schema, volume, pipeline and jobs using it) and the MLOps bundle
// (experiment, models, serving endpoint, quality monitor) with
// benchLatency on every request.
func BenchmarkNoChangeRedeployResources(b *testing.B) {
	for _, c := range []struct {
		name   string
		bundle func(dir string) *bundle.Bundle
	}{{"data", dataBundle}, {"mlops", mlopsBundle}} {
		b.Run(c.name, func(b *testing.B) {
			trips := &tripRecorder{}
			srv, w := seededServer(b, emulator.Config{TaskDuration: time.Millisecond}, func(next http.RoundTripper) http.RoundTripper { trips.next = next; return trips })
			dir := b.TempDir()
			writeTree(b, dir, demoFiles)
			bn := c.bundle(dir)
			files := listFiles(b, dir, bn.Workspace.FilePath)
			if _, err := applyFiles(context.Background(), w, bn, files, fastOptions()); err != nil {
				b.Fatal(err)
			}
			if err := srv.Configure(emulator.Config{Latency: benchLatency, TaskDuration: time.Millisecond}); err != nil {
				b.Fatal(err)
			}
			var sum tally
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				before, tripsBefore := len(srv.Requests()), trips.count()
				res, err := applyFiles(context.Background(), w, bn, files, fastOptions())
				if err != nil {
					b.Fatal(err)
				}
				if res.Changed {
					b.Fatal("the redeploy changed something")
				}
				_, rt := trips.since(tripsBefore)
				sum.add(res, requestsSince(srv, before), rt)
			}
			sum.report(b)
		})
	}
}
